package node

import (
	"fmt"
	"slices"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/jindou-im/jindou/node/state"
	"github.com/jindou-im/jindou/runtime"
	"go.etcd.io/raft/v3"
	pb "go.etcd.io/raft/v3/raftpb"
)

// Membership: how a group's replicas follow the cluster table. The leader
// of each group (a slot, or the controller) compares the group's raft
// configuration with what the table wants and makes one change at a time:
//
//  1. a member that should hold a replica and does not is added as a
//     learner; it catches up from a snapshot;
//  2. a learner that should vote is promoted once it has caught up;
//  3. only when every replica that should vote does, a replica that
//     should not be there is removed (the controller's extra voters are
//     made learners); a leader that should go hands its leadership to
//     another voter first.
//
// Every step is a raft configuration change, so a crash at any point
// leaves a valid configuration that the next leader carries on from.
//
// A node creates an empty replica (no configuration, so it never
// campaigns) for a slot the table gives it, and waits for the leader's
// snapshot. A replica whose group removed it is dropped, with its data.
//
// The one hazard is a new replica fed the log from index 1: a group's
// first configuration is not in its log (it is the initial snapshot's),
// so such a replica would miss it and believe a later, partial
// configuration. A leader therefore never sends entries from index 1 to a
// node outside the group's initial configuration: it compacts its log
// instead, and raft sends the snapshot.

// confChangeWait is how long a leader waits for a configuration change it
// proposed to apply before it proposes again (raft drops a change proposed
// while another is pending, and a deposed leader's may never commit).
const confChangeWait = 3 * time.Second

// reconcile moves every group this loop leads one step toward its table.
func (sl *slotLoop) reconcile() {
	v := sl.n.currentView()
	if v.table == nil {
		return
	}
	for _, id := range sl.slotIDs {
		s := sl.slots[id]
		if !s.leader || !s.caughtUp || s.removed {
			continue
		}
		voters, learners := v.desiredConf(id)
		if len(voters) == 0 {
			continue
		}
		sl.stepConf(s, voters, learners)
	}
}

// stepConf makes the next configuration change of s, if one is due.
func (sl *slotLoop) stepConf(s *slot, voters, learners []uint64) {
	now := sl.n.env.Clock().Now()
	if s.confAt != 0 && now-s.confAt < confChangeWait {
		return
	}
	cv, cl := s.conf.GetVoters(), s.conf.GetLearners()
	for _, x := range append(slices.Clone(voters), learners...) {
		if !slices.Contains(cv, x) && !slices.Contains(cl, x) {
			sl.proposeConf(s, pb.ConfChangeType_ConfChangeAddLearnerNode, x)
			return
		}
	}
	st := s.rn.Status()
	for _, x := range voters {
		if slices.Contains(cl, x) {
			if pr, ok := st.Progress[x]; ok && pr.Match >= st.GetCommit() {
				sl.proposeConf(s, pb.ConfChangeType_ConfChangeAddNode, x)
			}
			return
		}
	}
	self := uint64(sl.n.env.Node())
	for _, x := range append(slices.Clone(cv), cl...) {
		shouldLearn := slices.Contains(learners, x)
		if slices.Contains(voters, x) || (shouldLearn && slices.Contains(cl, x)) {
			continue
		}
		if x == self {
			sl.handOff(s, voters, st)
			return
		}
		kind := pb.ConfChangeType_ConfChangeRemoveNode
		if shouldLearn {
			kind = pb.ConfChangeType_ConfChangeAddLearnerNode // demote a voter
		}
		sl.proposeConf(s, kind, x)
		return
	}
}

// handOff transfers s's leadership to the voter that should stay and has
// the most of the log, before this node leaves the group.
func (sl *slotLoop) handOff(s *slot, voters []uint64, st raft.Status) {
	if to := bestVoter(voters, uint64(sl.n.env.Node()), st); to != 0 {
		sl.stats.Transfers++
		s.rn.TransferLeader(to)
		s.confAt = sl.n.env.Clock().Now()
	}
}

func (sl *slotLoop) proposeConf(s *slot, kind pb.ConfChangeType, node uint64) {
	cc := &pb.ConfChangeV2{Changes: []*pb.ConfChangeSingle{{Type: &kind, NodeId: &node}}}
	if err := s.rn.ProposeConfChange(cc); err != nil {
		return
	}
	sl.stats.ConfChanges++
	s.confAt = sl.n.env.Clock().Now()
}

// adopt makes the loop's replicas follow a new view: an empty replica for
// each routed slot the table gives this node and it does not hold yet,
// and none for a slot the table no longer gives it that never received
// its snapshot.
func (sl *slotLoop) adopt() {
	v := sl.n.currentView()
	self := uint64(sl.n.env.Node())
	ids := sl.routed
	if sl.index == 0 {
		ids = append(slices.Clone(ids), ctrlGroup)
	}
	for _, id := range ids {
		voters, learners := v.desiredConf(id)
		wanted := slices.Contains(voters, self) || slices.Contains(learners, self)
		if id == ctrlGroup && v.table == nil {
			wanted = true // a joining node: the controller's snapshot brings the table
		}
		s := sl.slots[id]
		switch {
		case s == nil && wanted:
			sl.addEmptyReplica(id)
		case s != nil && !wanted && s.empty():
			sl.drop(s)
		}
	}
	sl.reconcile()
}

// empty reports whether the replica has no configuration yet: it was
// created for the table and waits for its first snapshot.
func (s *slot) empty() bool {
	return len(s.conf.GetVoters()) == 0 && len(s.conf.GetLearners()) == 0
}

// addEmptyReplica creates a replica of id with no configuration and no
// data: it never campaigns, and catches up from the leader's snapshot.
func (sl *slotLoop) addEmptyReplica(id int) {
	sl.dropData(id)
	if err := sl.startSlot(id, &pb.ConfState{}); err != nil {
		panic(err) // an empty store: nothing to read that could fail
	}
	sl.stats.ReplicasAdded++
}

// drop removes a replica from the loop and its data from the stores once
// no write of it is in flight (else it is marked and dropped by drive).
func (sl *slotLoop) drop(s *slot) {
	s.removed = true
	if s.persisting || s.compacting {
		return
	}
	delete(sl.slots, s.id)
	sl.slotIDs = slices.DeleteFunc(sl.slotIDs, func(id int) bool { return id == s.id })
	for _, p := range s.waiting {
		sl.complete(p.p, state.Result{}, ErrNotLeader)
	}
	if hs := sl.hooks.slots[s.id]; hs != nil {
		sl.hooks.deactivate(hs) // the group's new leader delivers its webhooks
	}
	sl.dropData(s.id)
	sl.stats.ReplicasDropped++
}

// dropData deletes what the stores hold of group id, leaving a raft
// configuration without this node so that a restart does not take the
// group for a fresh one of the initial configuration.
func (sl *slotLoop) dropData(id int) {
	// The configuration without this node first, synced: whatever else
	// of the deletion a crash keeps, a restart then leaves the group out.
	rb := sl.n.raftDB.NewBatch()
	lo, hi := state.SlotSpan('r', id)
	if err := rb.DeleteRange(lo, hi, nil); err != nil {
		panic(err)
	}
	mustSet(rb, state.ConfStateKey(id), marshal(&pb.ConfState{}))
	if err := rb.Commit(pebble.Sync); err != nil {
		panic(fmt.Sprintf("node: drop group %d: %v", id, err))
	}
	b := sl.n.db.NewBatch()
	for _, space := range []byte{'a', 'd'} {
		lo, hi := state.SlotSpan(space, id)
		if err := b.DeleteRange(lo, hi, nil); err != nil {
			panic(err)
		}
	}
	if err := b.Commit(pebble.NoSync); err != nil {
		panic(fmt.Sprintf("node: drop group %d: %v", id, err))
	}
}

// onConfApplied follows an applied configuration change of s: the wait
// for it ends, and a replica the change removed is dropped.
func (sl *slotLoop) onConfApplied(s *slot) {
	s.confAt = 0
	self := uint64(sl.n.env.Node())
	if !slices.Contains(s.conf.GetVoters(), self) && !slices.Contains(s.conf.GetLearners(), self) {
		s.removed = true
	}
}

// checkRemoved answers a raft message from a node that is no longer in a
// group this node leads: it was removed and may not have applied its
// removal, so it is told to drop its replica (replicaRemoved).
func (sl *slotLoop) checkRemoved(s *slot, from runtime.NodeID) {
	if !s.leader || s.removed || s.empty() {
		return
	}
	f := uint64(from)
	if slices.Contains(s.conf.GetVoters(), f) || slices.Contains(s.conf.GetLearners(), f) {
		return
	}
	voters, learners := sl.n.currentView().desiredConf(s.id)
	if slices.Contains(voters, f) || slices.Contains(learners, f) {
		return // about to be added
	}
	sl.n.post(addr{Node: from, Loop: sl.name}, replicaRemoved{Slot: s.id, Term: s.term})
}

// onRemoved drops a replica its group's leader says was removed, unless
// the table still wants it here.
func (sl *slotLoop) onRemoved(m replicaRemoved) {
	s := sl.slots[m.Slot]
	if s == nil || m.Term < s.term {
		return
	}
	self := uint64(sl.n.env.Node())
	voters, learners := sl.n.currentView().desiredConf(m.Slot)
	if slices.Contains(voters, self) || slices.Contains(learners, self) {
		return
	}
	sl.drop(s)
}

// guardAppend reports whether a raft message may go: not entries from
// index 1 to a node outside the group's initial configuration (see the
// top of this file). For such a message it compacts the log instead.
func (sl *slotLoop) guardAppend(s *slot, m *pb.Message) bool {
	if m.GetType() != pb.MessageType_MsgApp || m.GetIndex() != 0 {
		return true
	}
	if slices.Contains(sl.n.initialConf(s.id), m.GetTo()) {
		return true
	}
	sl.compactAll(s)
	return false
}

// mayAppend reports whether raft message m may be stepped into s: an
// empty replica (no configuration yet) takes no entries from index 1 —
// it would replay later configuration changes without the first one —
// and asks the leader for a snapshot instead (the leader compacts its
// log, and raft then sends one).
func (sl *slotLoop) mayAppend(s *slot, m *pb.Message, from runtime.NodeID) bool {
	if m.GetType() != pb.MessageType_MsgApp || m.GetIndex() != 0 || !s.empty() || len(m.GetEntries()) == 0 {
		return true
	}
	sl.stats.SnapshotsAsked++
	sl.n.post(addr{Node: from, Loop: sl.name}, needSnapshot{Slot: s.id})
	return false
}

// onNeedSnapshot compacts the log of a group this node leads, so that
// raft catches the asking replica up from a snapshot.
func (sl *slotLoop) onNeedSnapshot(m needSnapshot) {
	if s := sl.slots[m.Slot]; s != nil && s.leader && !s.removed {
		sl.compactAll(s)
	}
}

// initialConf is every node of group id's initial configuration.
func (n *Node) initialConf(id int) []uint64 {
	if n.cfg.Join {
		return nil
	}
	if id == ctrlGroup {
		out := make([]uint64, len(n.peersAtStart))
		for i, p := range n.peersAtStart {
			out[i] = uint64(p)
		}
		return out
	}
	return placement(n.peersAtStart, n.cfg.ReplicaCount, id)
}

// ctrlInitialConf is the controller group's configuration on a fresh
// cluster: the first ctrlVoterCount members vote, the others learn.
func ctrlInitialConf(members []runtime.NodeID) *pb.ConfState {
	cs := &pb.ConfState{}
	for i, m := range members {
		if i < ctrlVoterCount {
			cs.Voters = append(cs.Voters, uint64(m))
		} else {
			cs.Learners = append(cs.Learners, uint64(m))
		}
	}
	return cs
}

// applySimpleConf is raft's application of one-at-a-time configuration
// changes (the only kind Jindou proposes) to cs, for the start-up replay.
func applySimpleConf(cs *pb.ConfState, cc *pb.ConfChangeV2) *pb.ConfState {
	out := &pb.ConfState{Voters: slices.Clone(cs.GetVoters()), Learners: slices.Clone(cs.GetLearners())}
	for _, c := range cc.GetChanges() {
		id := c.GetNodeId()
		out.Voters = slices.DeleteFunc(out.Voters, func(x uint64) bool { return x == id })
		out.Learners = slices.DeleteFunc(out.Learners, func(x uint64) bool { return x == id })
		switch c.GetType() {
		case pb.ConfChangeType_ConfChangeAddNode:
			out.Voters = append(out.Voters, id)
		case pb.ConfChangeType_ConfChangeAddLearnerNode:
			out.Learners = append(out.Learners, id)
		}
	}
	slices.Sort(out.Voters)
	slices.Sort(out.Learners)
	return out
}
