package node

import (
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/jindou-im/jindou/node/internal/invariant"
	"github.com/jindou-im/jindou/node/state"
	"github.com/jindou-im/jindou/runtime"
	pb "go.etcd.io/raft/v3/raftpb"
)

// Node is one Jindou server: a runtime.Process made of an API loop, gateway
// loops that own client connections, and slot loops that own the slots'
// raft groups and state. Loops share nothing mutable; they post messages
// (msgs.go) to each other's addresses.
type Node struct {
	cfg Config
	env runtime.Env
	// db is the applied state. Slot loops write it; any loop may read it
	// (Pebble is safe for that), but only slot loops read applied state
	// on which decisions are taken.
	db *pebble.DB
	// raftDB holds the slots' raft logs, HardStates and configurations.
	// It is a store of its own because Pebble publishes commits in order:
	// in one store, every unsynced apply would wait behind the synced log
	// write in flight, and the slot loops would stall for each fsync.
	raftDB    *pebble.DB
	api       *apiLoop
	gateways  []*gateway
	slotLoops []*slotLoop
	// loops are every loop of the node by name: the local half of routing.
	loops map[string]runtime.Loop
	// inc tells this incarnation's reply addresses from earlier ones'.
	inc uint64
	// view is the node's routing view of the cluster (controller.go),
	// published by the loop that applies the controller group.
	view nodeView
	// unroutable counts messages dropped because they named a node this
	// node's view does not know (any loop counts: hence atomic).
	unroutable atomic.Int64
	// staleAnswers counts answers dropped because they were to an earlier
	// incarnation of this node (any loop counts: hence atomic).
	staleAnswers atomic.Int64
	// peersAtStart are the configured members (this node alone if none):
	// a fresh cluster's groups start from them (initialConf).
	peersAtStart []runtime.NodeID
	// accepted counts connections; only the runtime's acceptor touches it.
	accepted uint64
	// startedAt is the wall time of Start.
	startedAt time.Time
	// stop are the figures of a graceful stop (stop.go).
	stop stopFigures
}

// New makes a node; Start brings it up.
func New(cfg Config) *Node { return &Node{cfg: cfg.withDefaults()} }

// Start opens the stores, recovers every slot and creates the loops.
func (n *Node) Start(env runtime.Env) error {
	n.env = env
	n.startedAt = env.Clock().Wall()
	n.loops = map[string]runtime.Loop{}
	if err := n.checkMeta(); err != nil {
		return err
	}
	n.inc = env.Rand("incarnation").Uint64()
	n.peersAtStart = n.members()
	n.view.Store(n.makeView(nil))
	if err := n.openStores(); err != nil {
		return err
	}
	t, err := n.loadTable()
	if err != nil {
		n.closeStores()
		return err
	}
	n.view.Store(n.makeView(t))
	if err := n.startSlotLoops(); err != nil {
		n.closeStores()
		return err
	}
	for i := range n.cfg.GatewayLoops {
		name := gatewayName(i)
		g := newGateway(n, name, env.Rand(name))
		g.loop = n.newLoop(name, g)
		g.startPresence(i)
		n.gateways = append(n.gateways, g)
	}
	n.api = &apiLoop{n: n, waiting: map[uint64]*apiWait{}}
	n.api.loop = n.newLoop(apiLoopName, n.api)
	return nil
}

func (n *Node) openStores() error {
	opts := &pebble.Options{
		FS:           n.env.Disk().FS(),
		MemTableSize: n.cfg.MemTableSize,
		CacheSize:    n.cfg.CacheSize,
		Logger:       pebbleLogger{n.env.Log()},
	}
	// Most point lookups miss (a new client_msg_no's dedupe key, blacklist
	// and whitelist checks): bloom filters answer those without reading
	// every level. L0's policy is inherited by the levels below.
	opts.Levels[0].FilterPolicy = bloom.FilterPolicy(10)
	fs := n.env.Disk().FS()
	db, err := pebble.Open(fs.PathJoin(n.cfg.DataDir, "state"), opts)
	if err != nil {
		return fmt.Errorf("node: open store: %w", err)
	}
	raftDB, err := pebble.Open(fs.PathJoin(n.cfg.DataDir, "raft"), opts) // Open clones opts
	if err != nil {
		_ = db.Close()
		return fmt.Errorf("node: open raft log: %w", err)
	}
	n.db, n.raftDB = db, raftDB
	return nil
}

func (n *Node) closeStores() {
	_ = n.db.Close()
	_ = n.raftDB.Close()
}

// startSlotLoops recovers every slot, replaying what was committed but not
// applied, and starts the loops. A loop learns the system uids when slot
// 0's loop broadcasts them once slot 0 has caught up (everything committed
// before the start is applied then); sends wait for it.
func (n *Node) startSlotLoops() error {
	owned := make([][]int, n.cfg.SlotLoops)
	for id := range n.cfg.Slots {
		owned[id%n.cfg.SlotLoops] = append(owned[id%n.cfg.SlotLoops], id)
	}
	for i := range n.cfg.SlotLoops {
		name := slotLoopName(i)
		sl := newSlotLoop(n, name, n.env.Rand(name).Uint64())
		sl.index = i
		sl.routed = owned[i]
		if i == 0 {
			sl.table = n.currentView().table
			if err := sl.recoverGroup(ctrlGroup, ctrlInitialConf(n.peersAtStart)); err != nil {
				return err
			}
		}
		for _, id := range owned[i] {
			if err := sl.recoverGroup(id, &pb.ConfState{Voters: n.initialConf(id)}); err != nil {
				return err
			}
		}
		n.slotLoops = append(n.slotLoops, sl)
	}
	for _, sl := range n.slotLoops {
		sl.loop = n.newLoop(sl.name, sl)
		sl.loop.After(n.cfg.TickInterval, tickTag{})
		sl.loop.After(announceInterval, announceTag{})
		sl.hooks.start()
		// Replicas the table gives this node that it does not hold yet.
		sl.loop.Post(viewChanged{})
		// Campaigns made at start produce Readies: handle them on the loop.
		sl.loop.Post(wake{})
	}
	if n.cfg.Join {
		n.slotLoops[0].loop.Post(joinRetry{})
	}
	return nil
}

// recoverGroup starts group id if this node holds a replica of it: one on
// disk, or, on a fresh cluster, one of its initial configuration.
func (sl *slotLoop) recoverGroup(id int, initial *pb.ConfState) error {
	held, fresh, err := holdsReplica(sl.n.raftDB, sl.n.db, id, uint64(sl.n.env.Node()))
	if err != nil {
		return fmt.Errorf("node: recover: %w", err)
	}
	if !held && !(fresh && !sl.n.cfg.Join && confHas(initial, uint64(sl.n.env.Node()))) {
		return nil
	}
	if err := sl.startSlot(id, initial); err != nil {
		return fmt.Errorf("node: recover: %w", err)
	}
	return nil
}

func loadSystemUIDs(r pebble.Reader) map[string]bool {
	set := map[string]bool{}
	for _, uid := range state.SystemUIDs(r) {
		set[uid] = true
	}
	return set
}

// Accept spreads connections over the gateway loops.
func (n *Node) Accept(info runtime.ConnInfo) runtime.Loop {
	_ = info
	n.accepted++
	return n.gateways[int(n.accepted%uint64(len(n.gateways)))].loop
}

// Stop fails every SEND still in flight, disconnects every client, syncs
// the store and closes it. The runtime calls it when no loop is running.
func (n *Node) Stop() {
	for _, g := range n.gateways {
		g.shutdown()
	}
	_ = n.db.LogData(nil, pebble.Sync)
	n.closeStores()
}

// Kill closes the store after a crash; the runtime has already discarded
// everything this incarnation would do.
func (n *Node) Kill() { n.closeStores() }

// Routing.

// Loop names. A slot is owned by loop slotLoopName(slot % SlotLoops).
const apiLoopName = "api"

func gatewayName(i int) string  { return fmt.Sprintf("gw-%d", i) }
func slotLoopName(i int) string { return fmt.Sprintf("slots-%d", i) }

func (n *Node) newLoop(name string, h runtime.Handler) runtime.Loop {
	l := n.env.NewLoop(name, h)
	n.loops[name] = l
	return l
}

func (n *Node) self(loop string) addr { return addr{Node: n.env.Node(), Loop: loop, Inc: n.inc} }

// ownAnswer reports whether an answer from a peer is to a request of this
// incarnation.
func (n *Node) ownAnswer(a answer) bool { return a.to().Inc == n.inc }

// slotAddr is the loop that owns slot (the controller group: loop 0).
func (n *Node) slotAddr(slot int) addr {
	if slot == ctrlGroup {
		return n.self(slotLoopName(0))
	}
	return n.self(slotLoopName(slot % n.cfg.SlotLoops))
}

// post delivers m to the loop at to: a local loop's Post, or the peer
// encoding of m over the transport to a loop of another node.
func (n *Node) post(to addr, m runtime.Msg) {
	if to.Node != n.env.Node() {
		if !n.isMember(to.Node) && !toNonMember(m) {
			// Views of the table differ between nodes for a while after
			// a change: a request may name a node this one does not know
			// yet or no longer. It is dropped; the requester retries.
			n.unroutable.Add(1)
			return
		}
		n.env.Transport().Send(to.Node, to.Loop, encodePeer(m))
		return
	}
	l, ok := n.loops[to.Loop]
	if !ok {
		invariant.Fail("%s posted to unknown loop %q", m.Kind(), to.Loop)
	}
	l.Post(m)
}

// toNonMember reports whether m may go to a node that is not a member:
// the answer to a join, and the word to a removed replica.
func toNonMember(m runtime.Msg) bool {
	switch m.(type) {
	case proposeDone, replicaRemoved, needSnapshot:
		return true
	}
	return false
}

// answer posts an answer to the requester named in its reply address. An
// answer to an earlier incarnation of this node is dropped: its request
// ids and connection ids name other requests now. (A request of the
// earlier incarnation can come back here passed on by a peer towards a
// slot's new leader; answers from peers are checked by ownAnswer.)
func (n *Node) answer(to replyTo, m runtime.Msg) {
	if to.Node == n.env.Node() && to.Inc != n.inc {
		n.staleAnswers.Add(1)
		return
	}
	n.post(to.addr, m)
}

// broadcastCluster posts m (a kickMsg) to every gateway loop
// of this node, and once to each other member's first gateway loop, which
// passes it on to its node's gateways (see gateway.onPeer).
func (n *Node) broadcastCluster(m runtime.Msg) {
	n.broadcastGateways(m)
	for _, p := range n.others() {
		n.post(addr{Node: p, Loop: gatewayName(0)}, m)
	}
}

// clustered: this node has other members; requests and deliveries may be
// lost, repeated or reordered between nodes.
func (n *Node) clustered() bool { return len(n.currentView().others) > 0 }

// isMember reports whether id is a member of the cluster, or was one
// (a removed member may still hold replicas while they move).
func (n *Node) isMember(id runtime.NodeID) bool { return slices.Contains(n.currentView().known, id) }

// others are the members but this node (made with the view: deliveries
// ask for them per message).
func (n *Node) others() []runtime.NodeID { return n.currentView().others }

func (n *Node) broadcastGateways(m runtime.Msg) {
	for _, g := range n.gateways {
		g.loop.Post(m)
	}
}

func (n *Node) broadcastSlotLoops(m runtime.Msg) {
	for _, sl := range n.slotLoops {
		sl.loop.Post(m)
	}
}
