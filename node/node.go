package node

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/jindou-im/jindou/runtime"
)

type pebbleReader = pebble.Reader

// Node is one Jindou server: a runtime.Process made of an API loop, gateway
// loops that own client connections, and slot loops that own the slots'
// raft groups and state. Loops share nothing mutable; they post messages.
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
	// slotOwner maps a slot to the index of the slot loop that owns it.
	slotOwner []int
	// accepted counts connections; only the runtime's acceptor touches it.
	accepted uint64
	// startedAt is the wall time of Start.
	startedAt time.Time
}

// New makes a node; Start brings it up.
func New(cfg Config) *Node { return &Node{cfg: cfg.withDefaults()} }

// Start opens the store, recovers every slot and creates the loops.
func (n *Node) Start(env runtime.Env) error {
	n.env = env
	n.startedAt = env.Clock().Wall()
	opts := &pebble.Options{
		FS:           env.Disk().FS(),
		MemTableSize: n.cfg.MemTableSize,
		CacheSize:    n.cfg.CacheSize,
		Logger:       pebbleLogger{env.Log()},
	}
	// Most point lookups miss (a new client_msg_no's dedupe key, blacklist
	// and whitelist checks): bloom filters answer those without reading
	// every level. L0's policy is inherited by the levels below.
	opts.Levels[0].FilterPolicy = bloom.FilterPolicy(10)
	fs := env.Disk().FS()
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
	if err := n.startSlotLoops(); err != nil {
		_ = db.Close()
		_ = raftDB.Close()
		return err
	}
	for i := range n.cfg.GatewayLoops {
		g := &gateway{n: n, idx: i, clients: map[uint64]*client{}, online: map[string][]*client{}}
		name := fmt.Sprintf("gw-%d", i)
		g.rnd = env.Rand(name)
		g.loop = env.NewLoop(name, g)
		n.gateways = append(n.gateways, g)
	}
	n.api = &apiLoop{n: n}
	n.api.loop = env.NewLoop("api", n.api)
	return nil
}

func (n *Node) startSlotLoops() error {
	owned := make([][]int, n.cfg.SlotLoops)
	n.slotOwner = make([]int, n.cfg.Slots)
	for id := range n.cfg.Slots {
		n.slotOwner[id] = id % n.cfg.SlotLoops
		owned[id%n.cfg.SlotLoops] = append(owned[id%n.cfg.SlotLoops], id)
	}
	system := loadSystemUIDs(n.db)
	for i := range n.cfg.SlotLoops {
		name := fmt.Sprintf("slots-%d", i)
		sl := &slotLoop{n: n, slots: map[int]*slot{}, system: system, nonce: n.env.Rand(name).Uint64()}
		sl.loop = n.env.NewLoop(name, sl)
		sl.ownSlots(owned[i])
		for _, id := range owned[i] {
			s, err := sl.newSlot(id, n.replicas(id))
			if err != nil {
				return fmt.Errorf("node: recover: %w", err)
			}
			sl.slots[id] = s
		}
		sl.loop.After(n.cfg.TickInterval, tickTag{})
		n.slotLoops = append(n.slotLoops, sl)
		// Campaigns made at start produce Readies: handle them on the loop.
		sl.loop.Post(slotQuery{slot: -1, fn: func(pebbleReader, *slotLoop) {}})
	}
	return nil
}

// replicas are the voters of slot id.
func (n *Node) replicas(id int) []uint64 {
	if n.cfg.Replicas != nil {
		return n.cfg.Replicas[id]
	}
	return []uint64{uint64(n.env.Node())}
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
	_ = n.db.Close()
	_ = n.raftDB.Close()
}

// Kill closes the store after a crash; the runtime has already discarded
// everything this incarnation would do.
func (n *Node) Kill() {
	_ = n.db.Close()
	_ = n.raftDB.Close()
}

func (n *Node) slotLoopOf(slotID int) *slotLoop { return n.slotLoops[n.slotOwner[slotID]] }

// send routes a send to its channel's slot; done runs on the slot loop.
func (n *Node) send(req sendRequest, from connRef, done func(sendResult)) {
	slotID := slotOfChannel(req.ch, n.cfg.Slots)
	n.slotLoopOf(slotID).loop.Post(slotSend{slot: slotID, req: req, except: from, done: done})
}

// deliver pushes a message to every gateway loop.
func (n *Node) deliver(msg *Message, recipients []string, except connRef) {
	if len(recipients) == 0 {
		return
	}
	n.broadcastGateways(deliverMsg{msg: msg, recipients: recipients, except: except})
}

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

// pebbleLogger routes Pebble's log lines to the runtime's logger: its
// chatter at debug level, its errors as errors.
type pebbleLogger struct{ log *slog.Logger }

func (l pebbleLogger) Infof(format string, args ...any) {
	l.log.Debug("pebble: " + fmt.Sprintf(format, args...))
}

func (l pebbleLogger) Errorf(format string, args ...any) {
	l.log.Error("pebble: " + fmt.Sprintf(format, args...))
}

func (l pebbleLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	l.log.Error("pebble: fatal: " + msg)
	panic("pebble: " + msg)
}
