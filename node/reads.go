package node

import (
	"encoding/binary"

	"github.com/jindou-im/jindou/runtime"
	"go.etcd.io/raft/v3"
)

// Linearizable reads of a replicated slot. A leader's applied state may be
// stale: a partition may have elected another leader that committed more.
// So the reads of a slot with more than one voter are batched per drive
// into one raft ReadIndex round: the leader learns the commit index and
// that a quorum still follows it (a heartbeat round, no clock-based lease),
// then serves the batch once it has applied up to that index. A slot that
// loses its leadership with reads not yet confirmed routes them anew; reads
// already confirmed are served once applied, wherever leadership went.

// confirmedReads are reads whose ReadIndex round confirmed index.
type confirmedReads struct {
	index uint64
	reads []slotRead
}

// readIndex starts a ReadIndex round for the slot's batched reads.
func (sl *slotLoop) readIndex(s *slot) {
	sl.readCtx++
	ctx := binary.BigEndian.AppendUint64(nil, sl.readCtx)
	if s.readWait == nil {
		s.readWait = map[uint64][]slotRead{}
	}
	s.readWait[sl.readCtx] = s.readBatch
	s.readBatch = nil
	sl.stats.ReadIndexes++
	s.rn.ReadIndex(ctx)
}

// takeReadStates moves the reads of the rounds a Ready confirmed to wait
// for their index.
func (sl *slotLoop) takeReadStates(s *slot, states []raft.ReadState) {
	for _, rs := range states {
		if len(rs.RequestCtx) != 8 {
			continue
		}
		ctx := binary.BigEndian.Uint64(rs.RequestCtx)
		reads, ok := s.readWait[ctx]
		if !ok {
			continue
		}
		delete(s.readWait, ctx)
		s.readReady = append(s.readReady, confirmedReads{index: rs.Index, reads: reads})
	}
}

// serveConfirmed answers the confirmed reads whose index is applied, in
// the order they were confirmed.
func (sl *slotLoop) serveConfirmed(s *slot) {
	n := 0
	for _, c := range s.readReady {
		if c.index > s.applied {
			break
		}
		for _, m := range c.reads {
			sl.n.answer(m.Reply, readDone{Reply: m.Reply, Result: sl.readSlot(s, m.Query)})
		}
		n++
	}
	if n > 0 {
		clear(s.readReady[:n])
		s.readReady = s.readReady[n:]
	}
}

// lostLeadership routes anew the reads that were waiting for this
// leader's ReadIndex rounds: raft dropped those rounds when it stepped
// down. It runs after the loop's drive, so the reads find the new state.
func (sl *slotLoop) lostLeadership(s *slot) []runtime.Msg {
	var again []runtime.Msg
	for _, m := range s.readBatch {
		again = append(again, m)
	}
	for _, ctx := range sortedKeys(s.readWait) {
		for _, m := range s.readWait[ctx] {
			again = append(again, m)
		}
	}
	// Person sends waiting for facts go on when those arrive: onFacts
	// routes them anew if the slot is no longer led here.
	s.readBatch, s.readWait = nil, nil
	if s.id == 0 {
		sl.systemAnnounced = false
	}
	return again
}
