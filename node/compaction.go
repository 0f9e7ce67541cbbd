package node

import (
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"github.com/jindou-im/jindou/node/state"
	"go.etcd.io/raft/v3"
)

// maybeCompact drops the oldest applied entries once the log holds more
// than CompactLogAfter of them, keeping the newest half. The deletion is a
// disk commit that first syncs the store, so that what the dropped entries
// produced is durable before they go (the applied state is written
// unsynced).
func (sl *slotLoop) maybeCompact(s *slot) {
	first, _ := s.storage.FirstIndex()
	after := uint64(sl.n.cfg.CompactLogAfter)
	if s.compacting || s.applied < first+after {
		return
	}
	sl.compactTo(s, s.applied-after/2)
}

// compactAll drops every applied entry from the log (so that a new
// replica catches up from a snapshot: membership.go), unless a compaction
// is in flight or nothing was applied.
func (sl *slotLoop) compactAll(s *slot) {
	if first, _ := s.storage.FirstIndex(); !s.compacting && s.applied >= first {
		sl.compactTo(s, s.applied)
	}
}

// compactTo drops the entries up to upTo, applied ones.
func (sl *slotLoop) compactTo(s *slot, upTo uint64) {
	term, err := s.storage.Term(upTo)
	if err != nil {
		return
	}
	b := sl.n.raftDB.NewBatch()
	if err := b.DeleteRange(state.RaftEntryKey(s.id, 0), state.RaftEntryKey(s.id, upTo+1), nil); err != nil {
		panic(err)
	}
	mustSet(b, state.SnapshotKey(s.id), state.EncodeSnapshot(upTo, term))
	s.compacting = true
	db := sl.n.db
	sl.n.env.Disk().Commit(sl.loop, func() error {
		// The applied state first (it is written unsynced), then the log.
		if err := db.LogData(nil, pebble.Sync); err != nil {
			return err
		}
		return b.Commit(pebble.Sync)
	}, compactTag{slot: s.id, index: upTo})
}

func (sl *slotLoop) onCompacted(s *slot, upTo uint64, err error) {
	s.compacting = false
	if err != nil {
		return // tried again after the next apply
	}
	sl.stats.Compactions++
	if _, err := s.storage.CreateSnapshot(upTo, s.conf, nil); err != nil && !errors.Is(err, raft.ErrSnapOutOfDate) {
		panic(fmt.Sprintf("node: slot %d snapshot at %d: %v", s.id, upTo, err))
	}
	if err := s.storage.Compact(upTo); err != nil && !errors.Is(err, raft.ErrCompacted) {
		panic(fmt.Sprintf("node: slot %d compact to %d: %v", s.id, upTo, err))
	}
}
