package world

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"testing/cryptotest"
	"time"

	"github.com/jindou-im/jindou/linearize"
	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/runtime"
	"github.com/jindou-im/jindou/sim"
)

// World is one simulated deployment. Like the simulator, it is used from
// the test's goroutine only.
type World struct {
	t testing.TB
	// Sim is the simulator: faults, links and error-returning runs.
	Sim *sim.Sim
	// History records operations for the linearizability check; Record
	// and the tests' own client callbacks write to it.
	History  *linearize.Recorder
	patience time.Duration
	nodes    map[runtime.NodeID]*Node
	nodeIDs  []runtime.NodeID // in the order added
	receiver *Receiver
	// blocks counts, per link, the partitions that block it now.
	blocks map[linkKey]int
	// clusterCfg is AddCluster's configuration, which joining nodes get;
	// removing and removed are the members asked to leave and those that
	// left (faults_membership.go).
	clusterCfg        node.Config
	removing, removed map[runtime.NodeID]bool
	// diskFreed is when each node's disk last got room back (faults_disk.go).
	diskFreed map[runtime.NodeID]time.Duration
}

// Option changes how New builds a world.
type Option func(*options)

type options struct {
	log      *slog.Logger
	patience time.Duration
}

// WithLog sends what the nodes log to l (it is discarded otherwise).
func WithLog(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithPatience bounds, in virtual time, how long Until, Call and
// AwaitReady wait (30s otherwise).
func WithPatience(d time.Duration) Option { return func(o *options) { o.patience = d } }

// New makes an empty world whose randomness derives from seed. With a
// *testing.T it also seeds the global crypto randomness for the rest of the
// test (cryptotest.SetGlobalRandom: etcd raft's election jitter reads it);
// benchmarks go without.
func New(t testing.TB, seed uint64, opts ...Option) *World {
	o := options{patience: 30 * time.Second}
	for _, opt := range opts {
		opt(&o)
	}
	if tt, ok := t.(*testing.T); ok {
		cryptotest.SetGlobalRandom(tt, seed)
	}
	return &World{
		t:        t,
		Sim:      sim.New(sim.Config{Seed: seed, Log: o.log}),
		History:  linearize.NewRecorder(),
		patience: o.patience,
		nodes:    map[runtime.NodeID]*Node{},
		blocks:   map[linkKey]int{},
		removing: map[runtime.NodeID]bool{},
		removed:  map[runtime.NodeID]bool{},
	}
}

// T is the test the world belongs to.
func (w *World) T() testing.TB { return w.t }

// Now is the virtual time.
func (w *World) Now() time.Duration { return w.Sim.Now() }

// Patience is how long Until, Call and AwaitReady wait.
func (w *World) Patience() time.Duration { return w.patience }

// AddNode adds node id with its configuration and starts it. A failed
// start leaves the node down and is the run's failure: the next run of the
// world (Until, Call, Sim.Run) reports it.
func (w *World) AddNode(id runtime.NodeID, cfg node.Config) *Node {
	n := &Node{w: w, id: id, Config: cfg}
	n.proc = w.Sim.AddProcess(id, func() runtime.Process { return node.New(n.Config) })
	w.nodes[id] = n
	w.nodeIDs = append(w.nodeIDs, id)
	_ = n.proc.Start()
	return n
}

// Node is node id, or nil.
func (w *World) Node(id runtime.NodeID) *Node { return w.nodes[id] }

// Nodes lists the nodes in the order they were added.
func (w *World) Nodes() []*Node {
	out := make([]*Node, len(w.nodeIDs))
	for i, id := range w.nodeIDs {
		out[i] = w.nodes[id]
	}
	return out
}

// dialed is the node a client asking for id dials: id, or by default the
// lowest id added (1 before any).
func (w *World) dialed(id runtime.NodeID) runtime.NodeID {
	switch {
	case id != 0:
		return id
	case len(w.nodeIDs) == 0:
		return 1
	}
	return slices.Min(w.nodeIDs)
}

// TimeoutError is Await's error when its condition did not hold in time.
type TimeoutError struct{ Limit time.Duration }

func (e *TimeoutError) Error() string { return fmt.Sprintf("not within %v of virtual time", e.Limit) }

// IsTimeout reports whether err is (or wraps) a TimeoutError.
func IsTimeout(err error) bool {
	var te *TimeoutError
	return errors.As(err, &te)
}

// Await runs the world in steps of step until cond holds. It fails with a
// TimeoutError once limit of virtual time has passed, or with the
// simulator's error (a hosted process failed, a livelock).
func (w *World) Await(limit, step time.Duration, cond func() bool) error {
	deadline := w.Sim.Now() + limit
	for !cond() {
		if w.Sim.Now() >= deadline {
			return &TimeoutError{Limit: limit}
		}
		if err := w.Sim.RunFor(step); err != nil {
			return err
		}
	}
	return nil
}

// Until runs the world a millisecond at a time until cond holds, and fails
// the test if it does not within the world's patience.
func (w *World) Until(what string, cond func() bool) {
	w.t.Helper()
	if err := w.Await(w.patience, time.Millisecond, cond); err != nil {
		w.t.Fatalf("%s: %v", what, err)
	}
}

// RunFor runs the world for d of virtual time and fails the test on the
// simulator's error. Sim.RunFor returns it instead.
func (w *World) RunFor(d time.Duration) {
	w.t.Helper()
	if err := w.Sim.RunFor(d); err != nil {
		w.t.Fatal(err)
	}
}

// AddCluster adds nodes 1..size as one cluster — cfg with Members set to
// all of them (and ReplicaCount as cfg has it) — and starts them.
func (w *World) AddCluster(size int, cfg node.Config) []*Node {
	cfg.Members = nil
	for id := 1; id <= size; id++ {
		cfg.Members = append(cfg.Members, uint64(id))
	}
	w.clusterCfg = cfg
	out := make([]*Node, size)
	for i := range out {
		out[i] = w.AddNode(runtime.NodeID(i+1), cfg)
	}
	return out
}

// LeaderOf is the up node that says it leads slot, or nil.
func (w *World) LeaderOf(slot int) *Node {
	for _, n := range w.Nodes() {
		if !n.Up() {
			continue
		}
		v, err := n.Call(node.Stats{})
		if err != nil {
			continue
		}
		if slices.Contains(v.(node.StatsReply).LedSlots, slot) {
			return n
		}
	}
	return nil
}
