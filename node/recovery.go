package node

import (
	"fmt"
	"slices"

	"github.com/cockroachdb/pebble/v2"
	"github.com/jindou-im/jindou/node/state"
	"go.etcd.io/raft/v3"
	pb "go.etcd.io/raft/v3/raftpb"
	gproto "google.golang.org/protobuf/proto"
)

// Recovery: how a slot comes back from the stores at start-up. Only the
// raft log and HardState are synced before anything depends on them; the
// applied state and applied index are written unsynced and rebuilt from the
// log, so a crash that keeps any share of unsynced writes recovers the same
// state.

// startSlot loads group id from the stores (a fresh group starts with the
// configuration initial), replays what was committed but not applied
// (without effects: nobody waits for it), and starts its raft node.
func (sl *slotLoop) startSlot(id int, initial *pb.ConfState) error {
	d, err := loadSlot(sl.n.raftDB, sl.n.db, id, initial)
	if err != nil {
		return err
	}
	hs, cs, err := d.storage.InitialState()
	if err != nil {
		return err
	}
	s := &slot{id: id, m: sl.newMachine(id), storage: d.storage, fresh: d.fresh,
		conf: cs, pending: map[uint64]pendingProposal{}, applied: d.applied}
	s.startLast, _ = d.storage.LastIndex()
	commit := hs.GetCommit()
	if d.applied < commit {
		ents, err := d.storage.Entries(d.applied+1, commit+1, 1<<62)
		if err != nil {
			return fmt.Errorf("slot %d replay: %w", id, err)
		}
		sl.apply(s, ents, false)
	}
	// The state store may have kept applies past the durable commit index
	// (both are written unsynced, and a crash keeps a share of each): raft
	// starts from the commit index and hands those entries out again, and
	// apply skips them.
	rn, err := raft.NewRawNode(&raft.Config{
		ID: uint64(sl.n.env.Node()), ElectionTick: sl.n.cfg.ElectionTicks, HeartbeatTick: sl.n.cfg.HeartbeatTicks,
		Storage: slotStorage{logStorage: d.storage, sl: sl, s: s}, Applied: min(s.applied, commit), MaxSizePerMsg: raftMaxMsgBytes, MaxInflightMsgs: raftMaxInflightMsgs,
		MaxUncommittedEntriesSize: raftMaxUncommittedBytes, CheckQuorum: true, PreVote: true,
		Logger: raftLogger{sl.n.env.Log().With("slot", id)},
	})
	if err != nil {
		return fmt.Errorf("slot %d raft: %w", id, err)
	}
	s.rn = rn
	// A slot of one voter elects itself at once. A fresh slot of several
	// is campaigned for by its first replica, so that leaderships start
	// spread as the placement spreads first replicas; the others wait for
	// their election timeouts.
	self := uint64(sl.n.env.Node())
	if voters := cs.GetVoters(); (len(voters) == 1 && voters[0] == self) || (d.fresh && len(voters) > 1 && voters[0] == self) {
		_ = rn.Campaign()
	}
	sl.refresh(s)
	sl.slots[id] = s
	sl.slotIDs = append(sl.slotIDs, id)
	slices.Sort(sl.slotIDs)
	return nil
}

// newMachine is slot id's state machine with this node's settings, the
// same on every replica: made at start (before the replay: the outbox is
// applied state) and again when a snapshot replaces the slot's state.
func (sl *slotLoop) newMachine(id int) *state.Machine {
	m := state.NewMachine(id, sl.n.cfg.DedupeWindow)
	if sl.n.cfg.Webhook.outboxOn() {
		m.EnableOutbox()
	}
	return m
}

// slotDisk is what loadSlot found on disk.
type slotDisk struct {
	storage *logStorage
	applied uint64
	// fresh: nothing was stored; the slot starts with the given voters.
	fresh bool
}

// loadSlot rebuilds a slot's raft storage from the stores, or makes a fresh
// one whose configuration is initial.
func loadSlot(raftDB, stateDB *pebble.DB, slot int, initial *pb.ConfState) (slotDisk, error) {
	ms := newLogStorage(raftDB, slot, raftLogCacheBytes)
	cs, fresh, err := storedConf(raftDB, stateDB, slot)
	if err != nil {
		return slotDisk{}, err
	}
	if fresh {
		cs = initial
	}
	var snapIndex, snapTerm uint64
	if v, ok := state.GetValue(raftDB, state.SnapshotKey(slot)); ok {
		snapIndex, snapTerm = state.DecodeSnapshot(v)
	}
	meta := &pb.SnapshotMetadata{ConfState: cs, Index: new(snapIndex), Term: new(snapTerm)}
	if err := ms.ApplySnapshot(&pb.Snapshot{Metadata: meta}); err != nil {
		return slotDisk{}, err
	}
	var applied uint64
	if v, ok := state.GetValue(stateDB, state.AppliedKey(slot)); ok {
		applied = state.DecodeIndex(v)
	}
	if err := loadEntries(raftDB, slot, ms); err != nil {
		return slotDisk{}, err
	}
	if err := loadHardState(raftDB, ms, slot, snapIndex); err != nil {
		return slotDisk{}, err
	}
	return slotDisk{storage: ms, applied: applied, fresh: fresh}, nil
}

// storedConf is group slot's raft configuration as of its applied index
// (the state store's, written with the applied index), else the raft
// store's; fresh when neither store has one.
func storedConf(raftDB, stateDB *pebble.DB, slot int) (cs *pb.ConfState, fresh bool, err error) {
	v, ok := state.GetValue(stateDB, state.AppliedConfKey(slot))
	if !ok {
		v, ok = state.GetValue(raftDB, state.ConfStateKey(slot))
	}
	if !ok {
		return nil, true, nil
	}
	cs = &pb.ConfState{}
	if err := gproto.Unmarshal(v, cs); err != nil {
		return nil, false, fmt.Errorf("slot %d conf state: %w", slot, err)
	}
	return cs, false, nil
}

// holdsReplica reports what the stores say of this node's replica of
// group id: held (load it), gone (the group removed it, or it never got
// its first snapshot), or fresh (nothing stored: a new cluster).
func holdsReplica(raftDB, stateDB *pebble.DB, id int, self uint64) (held, fresh bool, err error) {
	// A configuration without this node in the raft store is a dropped
	// replica's mark: it wins over whatever else a crash kept.
	if v, ok := state.GetValue(raftDB, state.ConfStateKey(id)); ok {
		cs := &pb.ConfState{}
		if err := gproto.Unmarshal(v, cs); err != nil {
			return false, false, fmt.Errorf("slot %d conf state: %w", id, err)
		}
		if !confHas(cs, self) {
			return false, false, nil
		}
	}
	cs, fresh, err := storedConf(raftDB, stateDB, id)
	if err != nil || fresh {
		return false, fresh, err
	}
	return confHas(cs, self), false, nil
}

func confHas(cs *pb.ConfState, id uint64) bool {
	return slices.Contains(cs.GetVoters(), id) || slices.Contains(cs.GetLearners(), id)
}

// loadEntries appends the stored entries to the storage one by one: it
// keeps their terms and the newest in its cache, not all of them.
func loadEntries(raftDB *pebble.DB, slot int, ls *logStorage) error {
	var bad error
	state.Scan(raftDB, state.RaftEntryPrefix(slot), func(_, v []byte) {
		e := &pb.Entry{}
		if err := gproto.Unmarshal(v, e); err != nil && bad == nil {
			bad = fmt.Errorf("slot %d entry: %w", slot, err)
		}
		if bad == nil {
			_ = ls.Append([]*pb.Entry{e})
		}
	})
	return bad
}

// loadHardState sets the slot's HardState from the raft store. The commit
// index is made durable only with synced writes, so it may lag the
// compacted prefix; that is committed (only applied entries are compacted),
// so the commit index is raised to it (to atLeast, capped at the log's
// end). It is never raised to the state store's applied index: that is
// written unsynced, and a restart must depend on synced data only.
func loadHardState(raftDB *pebble.DB, ms *logStorage, slot int, atLeast uint64) error {
	v, ok := state.GetValue(raftDB, state.HardStateKey(slot))
	if !ok {
		return nil
	}
	hs := &pb.HardState{}
	if err := gproto.Unmarshal(v, hs); err != nil {
		return fmt.Errorf("slot %d hard state: %w", slot, err)
	}
	last, _ := ms.LastIndex()
	if c := min(max(hs.GetCommit(), atLeast), last); c > hs.GetCommit() {
		hs.Commit = new(c)
	}
	return ms.SetHardState(hs)
}
