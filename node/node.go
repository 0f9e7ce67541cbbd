package node

import (
	"fmt"
	"slices"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/jindou-im/jindou/node/internal/invariant"
	"github.com/jindou-im/jindou/node/state"
	"github.com/jindou-im/jindou/runtime"
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
	// peers are the cluster's members, sorted, this node among them;
	// otherPeers the same without this node.
	peers, otherPeers []runtime.NodeID
	// placed are the replicas of each slot (placement), computed once.
	placed [][]uint64
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
	n.peers = n.members()
	n.placed = make([][]uint64, n.cfg.Slots)
	for id := range n.placed {
		n.placed[id] = placement(n.peers, n.cfg.ReplicaCount, id)
	}
	n.otherPeers = nil
	for _, p := range n.peers {
		if p != env.Node() {
			n.otherPeers = append(n.otherPeers, p)
		}
	}
	if err := n.openStores(); err != nil {
		return err
	}
	if err := n.startSlotLoops(); err != nil {
		n.closeStores()
		return err
	}
	for i := range n.cfg.GatewayLoops {
		name := gatewayName(i)
		g := newGateway(n, name, env.Rand(name))
		g.loop = n.newLoop(name, g)
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
		for _, id := range owned[i] {
			sl.routed = append(sl.routed, id)
			if !n.replicates(id) {
				continue
			}
			if err := sl.recoverSlot(id, n.replicas(id)); err != nil {
				return fmt.Errorf("node: recover: %w", err)
			}
		}
		n.slotLoops = append(n.slotLoops, sl)
	}
	for _, sl := range n.slotLoops {
		sl.loop = n.newLoop(sl.name, sl)
		sl.loop.After(n.cfg.TickInterval, tickTag{})
		sl.loop.After(announceInterval, announceTag{})
		sl.hooks.start()
		// Campaigns made at start produce Readies: handle them on the loop.
		sl.loop.Post(wake{})
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

// slotAddr is the loop that owns slot.
func (n *Node) slotAddr(slot int) addr { return n.self(slotLoopName(slot % n.cfg.SlotLoops)) }

// post delivers m to the loop at to: a local loop's Post, or the peer
// encoding of m over the transport to a loop of another node.
func (n *Node) post(to addr, m runtime.Msg) {
	if to.Node != n.env.Node() {
		if !n.isMember(to.Node) {
			invariant.Fail("%s for %s posted to node %d, not a member", m.Kind(), to.Loop, to.Node)
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

// answer posts an answer to the requester named in its reply address.
func (n *Node) answer(to replyTo, m runtime.Msg) { n.post(to.addr, m) }

// deliver pushes a new message to every gateway loop of the cluster.
func (n *Node) deliver(msg *state.Message, recipients []string, except connAddr) {
	if len(recipients) == 0 {
		return
	}
	n.broadcastCluster(deliverMsg{Msg: msg, Recipients: recipients, Except: except})
}

// broadcastCluster posts m (a deliverMsg or kickMsg) to every gateway loop
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
func (n *Node) clustered() bool { return len(n.peers) > 1 }

// isMember reports whether id is a member of the cluster.
func (n *Node) isMember(id runtime.NodeID) bool { return slices.Contains(n.peers, id) }

// others are the members but this node (made once: deliveries ask for
// them per message).
func (n *Node) others() []runtime.NodeID { return n.otherPeers }

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
