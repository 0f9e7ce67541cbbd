package node

import (
	"fmt"
	"slices"

	"github.com/cockroachdb/pebble/v2"
	"github.com/jindou-im/jindou/node/internal/invariant"
	"github.com/jindou-im/jindou/node/state"
	"github.com/jindou-im/jindou/runtime"
	"go.etcd.io/raft/v3"
	pb "go.etcd.io/raft/v3/raftpb"
)

// Ready handling: how a slot loop turns its raft groups' Readies into
// durable log writes, applied state, answers and deliveries.

// drive turns the slots' Readies into work: one synced write of all their
// entries and HardStates (a group commit: one fsync for every slot of the
// loop), then, on its completion, each slot's messages, apply and Advance.
func (sl *slotLoop) drive() {
	var group []int
	var again []runtime.Msg
	for _, id := range slices.Clone(sl.slotIDs) {
		s := sl.slots[id]
		if s.removed {
			sl.drop(s)
			if sl.slots[id] == nil {
				continue
			}
		}
		sl.refresh(s)
		leader := s.leader
		s.caughtUp = leader && s.appliedTerm == s.term
		if s.caughtUp && !s.toldCaughtUp {
			s.toldCaughtUp = true
			sl.tellCaughtUp() // facts_cache.go
		}
		if s.wasLeader && !leader {
			again = append(again, sl.lostLeadership(s)...)
		}
		if !s.wasLeader && leader {
			sl.stats.LeaderChanges++
			s.counters.LeaderChanges++
		}
		s.wasLeader = leader
		if id == 0 && s.caughtUp && !sl.systemAnnounced {
			sl.systemAnnounced = true
			sl.announceSystem(s)
		}
		if len(s.waiting) > 0 && leader {
			w := s.waiting
			s.waiting = nil
			for _, p := range w {
				sl.propose(s, p.cmd, p.p)
			}
		}
		if len(s.readBatch) > 0 && leader {
			sl.readIndex(s)
		}
		if !s.persisting && s.rn.HasReady() {
			s.rd = s.rn.Ready()
			sl.takeReadStates(s, s.rd.ReadStates)
			s.persisting = true
			group = append(group, id)
		}
		sl.serveConfirmed(s)
	}
	if len(group) > 0 {
		sl.persist(group)
	}
	if sl.n.clustered() {
		sl.announce(false)
	}
	sl.serveDeferred()
	for _, m := range again {
		sl.onMsg(m)
	}
}

// persist makes the Readies of slots durable in one batch, asynchronously.
//
// When no Ready needs a sync (raft's MustSync: only commit indexes moved,
// and a lost commit index is learned again) the batch is written unsynced
// and the slots go on at once.
//
// Committed entries are applied first, before the new entries are synced:
// raft guarantees they were appended to stable storage in an earlier Ready
// (etcd raft's Ready.CommittedEntries contract), so their acknowledgements
// need not wait for this Ready's fsync. Acknowledging a message thus costs
// one fsync, not two.
func (sl *slotLoop) persist(slots []int) {
	snap := false
	for _, id := range slots {
		s := sl.slots[id]
		if !raft.IsEmptySnap(s.rd.Snapshot) {
			sl.applySnapshot(s, s.rd.Snapshot)
			snap = true
		}
		if len(s.rd.CommittedEntries) > 0 {
			sl.apply(s, s.rd.CommittedEntries, true)
			s.rd.CommittedEntries = nil // applied once, even if this write is retried
		}
	}
	b := sl.n.raftDB.NewBatch()
	sync := false
	for _, id := range slots {
		s := sl.slots[id]
		hs := s.rd.HardState
		if hs == nil {
			hs = &pb.HardState{}
		}
		prev, _, _ := s.storage.InitialState()
		prevLast, _ := s.storage.LastIndex()
		if !raft.IsEmptySnap(s.rd.Snapshot) {
			persistSnapshot(b, s.id, s.rd.Snapshot, prevLast)
		}
		persistReady(b, s.id, &s.rd, prevLast, s.fresh, s.conf, &sl.entryBufs)
		// A snapshot always syncs: the raft store must not say the log
		// starts after it before the state it replaced is durable.
		sync = sync || snap || s.fresh || raft.MustSync(hs, prev, len(s.rd.Entries))
	}
	if !sync {
		if err := b.Commit(pebble.NoSync); err != nil {
			panic(fmt.Sprintf("node: hard states of slots %v: %v", slots, err))
		}
		_ = b.Close() // back to Pebble's pool of batches
		for _, id := range slots {
			sl.onPersisted(sl.slots[id])
		}
		return
	}
	sl.stats.DiskCommits++
	sl.stats.GroupCommitSlots += int64(len(slots))
	if len(slots) > 1 {
		sl.stats.SharedCommits++
	}
	db := sl.n.db
	sl.n.env.Disk().Commit(sl.loop, func() error {
		// A loaded snapshot is state written unsynced: durable first,
		// before the raft store says the log starts after it.
		if snap {
			if err := db.LogData(nil, pebble.Sync); err != nil {
				return err
			}
		}
		if err := b.Commit(pebble.Sync); err != nil {
			return err
		}
		return b.Close() // back to Pebble's pool of batches
	}, persistTag{slots})
}

// onPersisted completes a slot's durable Ready: its entries join the raft
// storage, its messages go out, and raft is advanced.
func (sl *slotLoop) onPersisted(s *slot) {
	rd := s.rd
	s.fresh = false
	if !raft.IsEmptySnap(rd.Snapshot) {
		storeSnapshot(s, rd.Snapshot)
	}
	if rd.HardState != nil && !raft.IsEmptyHardState(rd.HardState) {
		if err := s.storage.SetHardState(rd.HardState); err != nil {
			panic(err)
		}
	}
	if err := s.storage.Append(rd.Entries); err != nil {
		panic(err)
	}
	for _, m := range rd.Messages {
		sl.sendRaft(s, m)
	}
	sl.apply(s, rd.CommittedEntries, true)
	s.rn.Advance(rd)
	s.persisting = false
	s.rd = raft.Ready{}
	if !s.rn.HasReady() {
		commit := s.rn.BasicStatus().HardState.GetCommit()
		if s.applied < commit {
			invariant.Fail("slot %d: committed index %d left unapplied (applied %d) after its Ready", s.id, commit, s.applied)
		}
	}
}

func (sl *slotLoop) sendRaft(s *slot, m *pb.Message) {
	if !sl.guardAppend(s, m) {
		return
	}
	if m.GetType() == pb.MessageType_MsgSnap {
		sl.sendSnapshot(s.id, m)
		s.rn.ReportSnapshot(m.GetTo(), raft.SnapshotFinish)
		return
	}
	sl.n.env.Transport().Send(runtime.NodeID(m.GetTo()), sl.loop.Name(), encodeRaftMsg(s.id, m))
}

// applied is one applied command and what it produced.
type applied struct {
	cmd *state.Command
	res state.Result
}

// apply applies committed entries to the state machine in one unsynced
// batch (the log is the durable truth), then completes proposals and
// delivers new messages when effects is set. Entries must follow the last
// applied one without a gap; each index is applied once: an entry at or
// below the applied index was applied by an earlier incarnation (the state
// store kept it) and is skipped.
//
// Entries that were in the log when this incarnation started (at or below
// startLast) are applied without effects, whether raft hands them out again
// or the start-up replay applies them: their proposers are gone, and which
// of the two paths applies them depends on how much unsynced state a crash
// kept, which must not reach the trace.
func (sl *slotLoop) apply(s *slot, ents []*pb.Entry, effects bool) {
	if len(ents) == 0 || ents[len(ents)-1].GetIndex() <= s.applied {
		return
	}
	b := sl.n.db.NewIndexedBatch()
	var done []applied
	var facts []state.ChannelKey // own channels changed (facts_cache.go)
	tableChanged, confChanged := false, false
	for _, e := range ents {
		if e.GetIndex() <= s.applied {
			continue
		}
		if e.GetIndex() != s.applied+1 {
			invariant.Fail("slot %d: entry %d applied after %d", s.id, e.GetIndex(), s.applied)
		}
		s.applied = e.GetIndex()
		switch e.GetType() {
		case pb.EntryType_EntryConfChange, pb.EntryType_EntryConfChangeV2:
			sl.applyConfChange(b, s, e)
			confChanged = true
		case pb.EntryType_EntryNormal:
			if len(e.GetData()) == 0 {
				continue // a new leader's empty entry
			}
			cmd := state.DecodeCommand(e.GetData())
			if s.id == ctrlGroup {
				tableChanged = sl.applyCtrl(b, cmd) || tableChanged
				if e.GetIndex() > s.startLast {
					done = append(done, applied{cmd, state.Result{}})
				}
				continue
			}
			res := s.m.Apply(b, cmd)
			sl.stats.Applied++
			if cmd.Op == state.OpSend && res.Msg != nil && !res.Duplicate {
				sl.stats.MessagesStored++
			}
			if res.Duplicate {
				sl.stats.Duplicates++
			}
			if res.Refused != 0 {
				sl.stats.RefusalsRecorded++
			}
			if res.DedupeExpired {
				sl.stats.DedupeExpired++
			}
			if e.GetIndex() > s.startLast {
				done = append(done, applied{cmd, res})
				if ownChannel(cmd.Ch) {
					facts = append(facts, cmd.Ch)
				}
			}
		}
	}
	s.appliedTerm = ents[len(ents)-1].GetTerm()
	s.m.FinishBatch(b)
	if err := b.Set(state.AppliedKey(s.id), state.EncodeIndex(s.applied), nil); err != nil {
		panic(fmt.Sprintf("node: batch set: %v", err))
	}
	if err := b.Commit(pebble.NoSync); err != nil {
		panic(fmt.Sprintf("node: apply slot %d: %v", s.id, err))
	}
	_ = b.Close() // back to Pebble's pool of indexed batches: one per apply
	if invariant.Enabled {
		s.m.CheckCache(sl.n.db)
	}
	if len(facts) > 0 {
		sl.tellFactsChanged(facts)
	}
	if tableChanged {
		sl.n.publishView(sl.table)
	}
	if confChanged {
		sl.onConfApplied(s)
	}
	if !effects || s.applied <= s.startLast {
		return // compaction too waits for this incarnation's own entries
	}
	sl.maybeCompact(s)
	for _, a := range done {
		sl.effects(s, a.cmd, a.res)
	}
}

// applyConfChange applies a configuration change to raft (during the
// start-up replay, before raft runs, to the configuration raft will start
// from: slotStorage.InitialState) and writes the new configuration with
// the applied index (b), and to the raft store.
func (sl *slotLoop) applyConfChange(b *pebble.Batch, s *slot, e *pb.Entry) {
	var cc pb.ConfChangeV2
	if err := unmarshalConfChange(e, &cc); err != nil {
		panic(err)
	}
	if s.rn == nil {
		s.conf = applySimpleConf(s.conf, &cc)
	} else {
		s.conf = s.rn.ApplyConfChange(&cc)
	}
	mustSet(b, state.AppliedConfKey(s.id), marshal(s.conf))
	if err := sl.n.raftDB.Set(state.ConfStateKey(s.id), marshal(s.conf), pebble.NoSync); err != nil {
		panic(fmt.Sprintf("node: slot %d conf state: %v", s.id, err))
	}
}

// effects answers the proposer of an applied command (if it is this
// incarnation of this loop) and pushes a new message out.
func (sl *slotLoop) effects(s *slot, cmd *state.Command, res state.Result) {
	var except connAddr
	if cmd.Prop.Node == uint64(sl.n.env.Node()) && cmd.Prop.Nonce == sl.nonce {
		if p, ok := s.pending[cmd.Prop.N]; ok {
			delete(s.pending, cmd.Prop.N)
			except = p.reply.client()
			sl.proposalApplied(s, p)
			sl.complete(p, res, nil)
		}
	}
	leader := sl.isLeader(s)
	if res.SystemChanged && leader {
		sl.announceSystem(s)
	}
	if cmd.Op == state.OpSend && res.Msg != nil && !res.Duplicate && leader {
		sl.deliver(res.Msg, res.Recipients, except)
		sl.hooks.stored(s)
	}
}
