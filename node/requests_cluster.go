package node

import "slices"

// SlotDigests reads, for every slot this node replicates, its applied
// index and a digest of its applied state, at once and on this node alone
// (no leadership needed): replicas of a slot that applied the same index
// must have the same digest. Reply: []SlotDigest, in slot order.
type SlotDigests struct{}

// SlotDigest is one replica's applied index and state digest.
type SlotDigest struct {
	Slot    int    `json:"slot"`
	Applied uint64 `json:"applied"`
	Digest  uint64 `json:"digest"`
	Leader  bool   `json:"leader"`
}

// querySlotDigests reads the loop's replicas. Result: digestsResult.
type querySlotDigests struct{}

type digestsResult []SlotDigest

func (querySlotDigests) isSlotQuery() {}
func (digestsResult) isReadResult()   {}

func (SlotDigests) run(a *apiLoop, done func(any, error)) error {
	a.gatherSlotLoops(querySlotDigests{}, true, func(parts []readResult, err error) {
		if err != nil {
			done(nil, err)
			return
		}
		var out []SlotDigest
		for _, p := range parts {
			out = append(out, p.(digestsResult)...)
		}
		sortDigests(out)
		done(out, nil)
	})
	return nil
}

func sortDigests(d []SlotDigest) {
	slices.SortFunc(d, func(x, y SlotDigest) int { return x.Slot - y.Slot })
}
