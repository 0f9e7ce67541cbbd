package node

import (
	"slices"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
	"github.com/jindou-im/jindou/node/state"
	"github.com/jindou-im/jindou/runtime"
)

// The controller: one raft group, beside the slots, whose state is the
// cluster table (cluster.go). Its voters are the first ctrlVoterCount
// active members and every other member follows it as a learner, so every
// node applies the table and routes from its own copy. It lives in slot
// loop 0 and uses the slots' machinery (raft store, group commit,
// snapshots, recovery) under its own group id; only what its entries mean
// differs: a join or a removal of a member, after which the table's slot
// targets are rebalanced. Slot leaders then move their replicas toward the
// targets one raft configuration change at a time (membership.go).

// ctrlGroup is the controller group's id: past every slot (state.MaxSlots),
// inside the keys' u16.
const ctrlGroup = 1<<16 - 1

// ControllerGroup is the controller group's id where a group id is shown
// (Stats.LedSlots, SlotDigests).
const ControllerGroup = ctrlGroup

// Controller commands (state.Command with these ops; the fields they use
// are named at each).
const (
	// opClusterJoin admits member Seq, its peer address in Token.
	opClusterJoin = "cluster_join"
	// opClusterRemove removes member Seq: its replicas move away.
	opClusterRemove = "cluster_remove"
)

// clusterView is a node's routing view of the cluster, made from its copy
// of the table and published whole: loops read it through Node.view and
// never change it. It is the one value loops share; it is immutable once
// published, and a newer one replaces it.
type clusterView struct {
	table *clusterTable // nil: a joining node that has not received the table yet
	// peers are the active members, sorted, this node among them: reads
	// of every node's gateways ask them. known adds the removed members,
	// which may still hold replicas and clients until they are stopped:
	// messages may go to and come from them, and others (known without
	// this node) get the deliveries, kicks and announcements.
	peers, others, known []runtime.NodeID
}

// viewChanged tells a slot loop that its node published a new view.
type viewChanged struct{}

func (viewChanged) Kind() string { return "view_changed" }

// makeView is the view of table t (nil: only the configured members are
// known, as on a node that is joining).
func (n *Node) makeView(t *clusterTable) *clusterView {
	v := &clusterView{table: t}
	self := n.env.Node()
	if t == nil {
		v.peers = n.members()
	} else {
		for _, id := range t.active() {
			v.peers = append(v.peers, runtime.NodeID(id))
		}
	}
	if !slices.Contains(v.peers, self) {
		v.peers = append(v.peers, self)
		slices.Sort(v.peers)
	}
	v.known = slices.Clone(v.peers)
	if t != nil {
		for _, m := range t.Members {
			if !slices.Contains(v.known, runtime.NodeID(m.ID)) {
				v.known = append(v.known, runtime.NodeID(m.ID))
			}
		}
		slices.Sort(v.known)
	}
	for _, p := range v.known {
		if p != self {
			v.others = append(v.others, p)
		}
	}
	return v
}

// publishView makes t the node's view and tells the slot loops.
func (n *Node) publishView(t *clusterTable) {
	n.view.Store(n.makeView(t))
	if n.slotLoops != nil && n.slotLoops[0].loop != nil {
		n.broadcastSlotLoops(viewChanged{})
	}
}

// currentView is the node's view now.
func (n *Node) currentView() *clusterView { return n.view.Load() }

// nodeView holds the published view (see clusterView).
type nodeView = atomic.Pointer[clusterView]

// targets are the replicas slot id should have, first replica first, or nil
// when the table is not known yet.
func (v *clusterView) targets(id int) []uint64 {
	if v.table == nil || id >= len(v.table.Slots) {
		return nil
	}
	return v.table.Slots[id]
}

// desiredConf is the raft configuration group id should move to: its
// voters and learners (the controller's learners are every member, active
// or removed, that does not vote). Nil voters: not known yet.
func (v *clusterView) desiredConf(id int) (voters, learners []uint64) {
	if v.table == nil {
		return nil, nil
	}
	if id != ctrlGroup {
		return v.targets(id), nil
	}
	// A removed member stays a learner: it must learn that it was
	// removed, or the slots it leads would never hand off.
	voters = v.table.ctrlVoters()
	for _, m := range v.table.Members {
		if !slices.Contains(voters, m.ID) {
			learners = append(learners, m.ID)
		}
	}
	return voters, learners
}

// applyCtrl applies a controller command to the loop's table and writes
// the new table into b. It reports whether the table changed.
func (sl *slotLoop) applyCtrl(b *pebble.Batch, cmd *state.Command) bool {
	t := sl.table.clone()
	id := cmd.Seq
	m, known := t.member(id)
	switch cmd.Op {
	case opClusterJoin:
		if id == 0 || (known && m.Status == memberActive) {
			return false
		}
		t.setMember(memberRec{ID: id, Addr: cmd.Token, Status: memberActive})
	case opClusterRemove:
		// The last active member stays: a cluster needs one.
		if !known || m.Status != memberActive || len(t.active()) == 1 {
			return false
		}
		m.Status = memberRemoved
		t.setMember(m)
	default:
		return false
	}
	t.rebalance(sl.n.cfg.ReplicaCount)
	t.Version++
	mustSet(b, state.ClusterTableKey(ctrlGroup), t.encode())
	sl.table = t
	return true
}

// loadTable reads the controller's table from the store: the initial
// table when none was written yet, nil on a joining node that has none.
func (n *Node) loadTable() (*clusterTable, error) {
	if v, ok := state.GetValue(n.db, state.ClusterTableKey(ctrlGroup)); ok {
		return decodeTable(v)
	}
	if n.cfg.Join {
		return nil, nil
	}
	return initialTable(n.members(), n.cfg.ReplicaCount, n.cfg.Slots), nil
}

// joinRetry is the timer tag of a joining node's request to be admitted.
type joinRetry struct{}

// askToJoin asks the controller, through the members the node was given,
// to admit this node; it is asked again every forwardRetry until the
// node's table names it (answers to a node that is not a member yet may
// be lost).
func (sl *slotLoop) askToJoin() {
	v := sl.n.currentView()
	if v.table != nil {
		if m, ok := v.table.member(uint64(sl.n.env.Node())); ok && m.Status == memberActive {
			return
		}
	}
	cmd := &state.Command{Op: opClusterJoin, Seq: uint64(sl.n.env.Node()), Token: sl.n.cfg.PeerAddr}
	// The answer goes to the API loop under request 0, which no request
	// has: the node learns it was admitted from its table.
	m := slotPropose{Slot: ctrlGroup, Cmd: cmd, Reply: replyTo{addr: sl.n.self(apiLoopName)}}
	sl.onMsg(m)
	sl.loop.After(forwardRetry, joinRetry{})
}

// isCtrlJoin reports whether m is a request to join, the one request a
// node that is not a member yet may send.
func isCtrlJoin(m runtime.Msg) bool {
	p, ok := m.(slotPropose)
	return ok && p.Slot == ctrlGroup && p.Cmd != nil && p.Cmd.Op == opClusterJoin && p.Cmd.Seq == uint64(p.Reply.Node)
}

// ctrlFallback is where a request for the controller goes when no leader
// is known: a controller voter of the view, or a configured member.
func (sl *slotLoop) ctrlFallback() runtime.NodeID {
	v := sl.n.currentView()
	self := sl.n.env.Node()
	if v.table != nil {
		for _, id := range v.table.ctrlVoters() {
			if runtime.NodeID(id) != self {
				return runtime.NodeID(id)
			}
		}
	}
	for _, id := range v.others {
		return id
	}
	return 0
}
