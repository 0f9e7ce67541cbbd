package node

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/jindou-im/jindou/runtime"
)

// The cluster table: who the members are and which members should
// replicate each slot. It is the controller group's state (controller.go):
// every node applies the controller log, as a voter or a learner, and
// routes from its own copy. A fresh cluster's table is a pure function of
// the configuration (initialTable), the same on every node; the controller
// log changes it from there, one join or removal at a time.

// Member statuses.
const (
	memberActive  = "active"
	memberRemoved = "removed"
)

// memberRec is one member of the table.
type memberRec struct {
	ID     uint64 `json:"id"`
	Addr   string `json:"addr,omitempty"` // its peer address, as it gave it when joining
	Status string `json:"status"`
}

// clusterTable is the controller's state. Members are sorted by ID; Slots
// holds each slot's target replicas, first replica first.
type clusterTable struct {
	Version uint64      `json:"version"`
	Members []memberRec `json:"members"`
	Slots   [][]uint64  `json:"slots"`
}

// ctrlVoterCount is how many members vote in the controller group; the
// other members follow it as learners.
const ctrlVoterCount = 3

// initialTable is a fresh cluster's table: the configured members, all
// active, and placement's replicas.
func initialTable(members []runtime.NodeID, replicas, slots int) *clusterTable {
	t := &clusterTable{Slots: make([][]uint64, slots)}
	for _, m := range members {
		t.Members = append(t.Members, memberRec{ID: uint64(m), Status: memberActive})
	}
	for id := range slots {
		t.Slots[id] = placement(members, replicas, id)
	}
	return t
}

func (t *clusterTable) clone() *clusterTable {
	c := &clusterTable{Version: t.Version, Members: slices.Clone(t.Members), Slots: make([][]uint64, len(t.Slots))}
	for i, r := range t.Slots {
		c.Slots[i] = slices.Clone(r)
	}
	return c
}

func (t *clusterTable) encode() []byte {
	b, err := json.Marshal(t)
	if err != nil {
		panic(fmt.Sprintf("node: cluster table: %v", err))
	}
	return b
}

func decodeTable(b []byte) (*clusterTable, error) {
	t := &clusterTable{}
	if err := json.Unmarshal(b, t); err != nil {
		return nil, fmt.Errorf("node: cluster table: %w", err)
	}
	return t, nil
}

// active are the ids of the active members, sorted.
func (t *clusterTable) active() []uint64 {
	var out []uint64
	for _, m := range t.Members {
		if m.Status == memberActive {
			out = append(out, m.ID)
		}
	}
	return out
}

func (t *clusterTable) member(id uint64) (memberRec, bool) {
	i, ok := slices.BinarySearchFunc(t.Members, id, func(m memberRec, id uint64) int { return cmpU64(m.ID, id) })
	if !ok {
		return memberRec{}, false
	}
	return t.Members[i], true
}

// setMember adds or replaces a member, keeping the list sorted.
func (t *clusterTable) setMember(m memberRec) {
	i, ok := slices.BinarySearchFunc(t.Members, m.ID, func(r memberRec, id uint64) int { return cmpU64(r.ID, id) })
	if ok {
		t.Members[i] = m
		return
	}
	t.Members = slices.Insert(t.Members, i, m)
}

// ctrlVoters are the members that vote in the controller group: the first
// ctrlVoterCount active members. The others are its learners.
func (t *clusterTable) ctrlVoters() []uint64 {
	a := t.active()
	return a[:min(len(a), ctrlVoterCount)]
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// rebalance moves the table's targets toward an even spread over the
// active members, with replicas replicas per slot (fewer when there are
// fewer members): replicas on members that are no longer active go, slots
// short of replicas get the least loaded members, and while some member
// holds two more replicas than another, one moves. It changes as few
// replicas as it can: a move costs a snapshot. The result depends only on
// the table, so every replica of the controller computes the same.
func (t *clusterTable) rebalance(replicas int) {
	act := t.active()
	if len(act) == 0 {
		return
	}
	want := min(replicas, len(act))
	load := map[uint64]int{}
	for _, id := range act {
		load[id] = 0
	}
	for s, r := range t.Slots {
		r = slices.DeleteFunc(r, func(id uint64) bool { _, ok := load[id]; return !ok })
		t.Slots[s] = r
		for _, id := range r {
			load[id]++
		}
	}
	for s := range t.Slots {
		for len(t.Slots[s]) > want {
			drop := mostLoaded(act, load, t.Slots[s], nil)
			t.Slots[s] = slices.DeleteFunc(t.Slots[s], func(id uint64) bool { return id == drop })
			load[drop]--
		}
		for len(t.Slots[s]) < want {
			add := leastLoaded(act, load, t.Slots[s])
			t.Slots[s] = append(t.Slots[s], add)
			load[add]++
		}
	}
	for range maxRebalanceMoves {
		lo := leastLoaded(act, load, nil)
		hi := mostLoaded(act, load, nil, nil)
		if load[hi]-load[lo] <= 1 {
			return
		}
		moved := false
		for s := range t.Slots {
			r := t.Slots[s]
			if i := slices.Index(r, hi); i >= 0 && !slices.Contains(r, lo) {
				r[i] = lo
				load[hi]--
				load[lo]++
				moved = true
				break
			}
		}
		if !moved {
			return
		}
	}
}

// maxRebalanceMoves bounds one rebalance's moves (a safety net: each move
// narrows the spread, so far fewer are ever needed).
const maxRebalanceMoves = 1 << 16

// leastLoaded is the active member with the fewest replicas that is not in
// skip (lowest id on ties).
func leastLoaded(act []uint64, load map[uint64]int, skip []uint64) uint64 {
	var best uint64
	for _, id := range act {
		if slices.Contains(skip, id) {
			continue
		}
		if best == 0 || load[id] < load[best] {
			best = id
		}
	}
	return best
}

// mostLoaded is the member of among (all active members when nil) with
// the most replicas (lowest id on ties), skipping skip.
func mostLoaded(act []uint64, load map[uint64]int, among, skip []uint64) uint64 {
	if among == nil {
		among = act
	}
	var best uint64
	for _, id := range among {
		if slices.Contains(skip, id) {
			continue
		}
		if best == 0 || load[id] > load[best] {
			best = id
		}
	}
	return best
}
