package node

import (
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"github.com/jindou-im/jindou/node/state"
	"go.etcd.io/raft/v3"
	pb "go.etcd.io/raft/v3/raftpb"
)

// Snapshots: how a replica that fell behind the compacted prefix of its
// leader's log catches up. The leader makes the snapshot on demand, when
// raft asks its storage for one: the slot's applied state as it is now
// (state.DumpSlot), at the applied index and its term. The follower
// replaces its slot's state with it in one batch (state.LoadSlot), synced
// before the raft store records the snapshot, so that a crash leaves
// either the old state and log or the new state; raft then continues from
// the snapshot's index.
//
// A snapshot travels as one raft message. The leader reports it sent at
// once (raft then probes the follower, and sends a new snapshot if this
// one was lost).

// slotStorage is a slot's raft storage: its log in the raft store
// (logStorage), and snapshots made from the applied state.
type slotStorage struct {
	*logStorage
	sl *slotLoop
	s  *slot
}

// InitialState is the log's HardState and the configuration as of the
// applied index (which the start-up replay may have moved past the
// stored one).
func (st slotStorage) InitialState() (*pb.HardState, *pb.ConfState, error) {
	hs, _, err := st.logStorage.InitialState()
	return hs, st.s.conf, err
}

// Snapshot is the slot's applied state now.
func (st slotStorage) Snapshot() (*pb.Snapshot, error) {
	s := st.s
	term, err := st.logStorage.Term(s.applied)
	if err != nil {
		return nil, raft.ErrSnapshotTemporarilyUnavailable
	}
	st.sl.stats.SnapshotsMade++
	s.counters.SnapshotsSent++
	meta := &pb.SnapshotMetadata{ConfState: s.conf, Index: new(s.applied), Term: new(term)}
	return &pb.Snapshot{Data: state.DumpSlot(st.sl.n.db, s.id), Metadata: meta}, nil
}

// applySnapshot replaces the slot's applied state with a snapshot raft
// handed out in a Ready, unless the state is already past it (a restart
// may keep applies past the durable commit index raft knows).
func (sl *slotLoop) applySnapshot(s *slot, snap *pb.Snapshot) {
	md := snap.GetMetadata()
	if md.GetIndex() <= s.applied {
		return
	}
	b := sl.n.db.NewBatch()
	if err := state.LoadSlot(b, s.id, snap.GetData()); err != nil {
		panic(fmt.Sprintf("node: slot %d snapshot at %d: %v", s.id, md.GetIndex(), err)) // checked in onPeer
	}
	mustSet(b, state.AppliedKey(s.id), state.EncodeIndex(md.GetIndex()))
	mustSet(b, state.AppliedConfKey(s.id), marshal(md.GetConfState()))
	if err := b.Commit(pebble.NoSync); err != nil {
		panic(fmt.Sprintf("node: slot %d snapshot: %v", s.id, err))
	}
	s.m = sl.newMachine(s.id)
	s.applied, s.appliedTerm = md.GetIndex(), md.GetTerm()
	s.conf = md.GetConfState()
	sl.stats.SnapshotsApplied++
	if s.id == ctrlGroup {
		t, err := sl.n.loadTable()
		if err != nil {
			panic(fmt.Sprintf("node: controller snapshot at %d: %v", md.GetIndex(), err))
		}
		if t != nil {
			sl.table = t
			sl.n.publishView(t)
		}
	}
	sl.onConfApplied(s)
}

// storeSnapshot makes the raft storage start at a durable snapshot.
func storeSnapshot(s *slot, snap *pb.Snapshot) {
	if err := s.storage.ApplySnapshot(snap); err != nil && !errors.Is(err, raft.ErrSnapOutOfDate) {
		panic(fmt.Sprintf("node: slot %d apply snapshot: %v", s.id, err))
	}
}

// persistSnapshot writes a snapshot's metadata into the raft store's batch
// and drops every stored entry it replaces (the whole old log: raft
// restarts the log after the snapshot).
func persistSnapshot(b *pebble.Batch, slot int, snap *pb.Snapshot, prevLast uint64) {
	md := snap.GetMetadata()
	if err := b.DeleteRange(state.RaftEntryKey(slot, 0), state.RaftEntryKey(slot, max(prevLast, md.GetIndex())+1), nil); err != nil {
		panic(err)
	}
	mustSet(b, state.SnapshotKey(slot), state.EncodeSnapshot(md.GetIndex(), md.GetTerm()))
	mustSet(b, state.ConfStateKey(slot), marshal(md.GetConfState()))
}

// checkPeerSnapshot reports whether a raft message from a peer carries a
// snapshot the slot could not load (then it is dropped before raft
// accepts it).
func checkPeerSnapshot(slot int, m *pb.Message) error {
	if m.GetType() != pb.MessageType_MsgSnap {
		return nil
	}
	return state.CheckSnapshot(slot, m.GetSnapshot().GetData())
}
