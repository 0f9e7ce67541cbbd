package chaos

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/jindou-im/jindou/runtime"
	"github.com/jindou-im/jindou/sim"
)

// Class names a kind of fault, for counting what fired across seeds.
type Class string

// The fault classes.
const (
	CrashPowerLoss Class = "crash-power-loss" // unsynced writes lost
	CrashProcess   Class = "crash-process"    // unsynced writes kept
	CrashTorn      Class = "crash-torn"       // a seeded share kept
	DiskErrors     Class = "disk-errors"
	DiskSlow       Class = "disk-slow"
	ClockJump      Class = "clock-jump"
	ClockDrift     Class = "clock-drift"
	ConnSlow       Class = "conn-slow"
	ConnFragment   Class = "conn-fragment"
	ClientClose    Class = "client-close" // a client closes its connection
	ClientCut      Class = "client-cut"   // the network cuts a connection
	LinkFaults     Class = "link-faults"
	Partition      Class = "partition"
)

// Fault is one fault of a plan.
type Fault interface {
	fmt.Stringer
	Class() Class
	// schedule arranges the fault; fired is called each time it takes
	// effect.
	schedule(s *sim.Sim, h Hooks, fired func(Class))
}

// Hooks let a run react to faults.
type Hooks struct {
	// AfterRestart runs right after a crashed node is started again (not
	// if its start failed).
	AfterRestart func(node runtime.NodeID)
}

// Crash crashes Node at At (if it is up), keeping KeepPct percent of its
// unsynced writes, and starts it again Down later.
type Crash struct {
	Node    runtime.NodeID
	At      time.Duration
	Down    time.Duration
	KeepPct int
}

func (c Crash) String() string {
	return fmt.Sprintf("crash node %d at %v for %v keeping %d%% of unsynced writes", c.Node, c.At, c.Down, c.KeepPct)
}

func (c Crash) Class() Class {
	switch c.KeepPct {
	case 0:
		return CrashPowerLoss
	case 100:
		return CrashProcess
	}
	return CrashTorn
}

func (c Crash) schedule(s *sim.Sim, h Hooks, fired func(Class)) {
	s.At(c.At, "crash", func() {
		p := s.Proc(c.Node)
		if !p.Up() {
			return
		}
		p.Crash(c.KeepPct)
		fired(c.Class())
		s.After(c.Down, "restart", func() {
			if p.Up() {
				return
			}
			// A failed start leaves the node down; the run reports it.
			if p.Start() == nil && h.AfterRestart != nil {
				h.AfterRestart(c.Node)
			}
		})
	})
}

// Disk sets a node's disk: commit latency up to MaxLatency, and ErrorPct
// percent of commits failing.
type Disk struct {
	Node       runtime.NodeID
	MaxLatency time.Duration
	ErrorPct   int
}

func (d Disk) String() string {
	return fmt.Sprintf("disk of node %d: latency up to %v, %d%% of commits fail", d.Node, d.MaxLatency, d.ErrorPct)
}

func (d Disk) Class() Class {
	if d.ErrorPct > 0 {
		return DiskErrors
	}
	return DiskSlow
}

func (d Disk) schedule(s *sim.Sim, _ Hooks, fired func(Class)) {
	s.Proc(d.Node).SetDisk(sim.DiskConfig{LatencyMin: 100 * time.Microsecond, LatencyMax: d.MaxLatency, ErrorPct: d.ErrorPct})
	fired(DiskSlow)
	// Errors count as fired only when a commit actually fails: the run
	// reads that from the simulator's stats (see Counter.AddStats).
}

// Clock skews a node's wall clock by Jump at At, and makes its monotonic
// clock drift DriftPPM parts per million from the start.
type Clock struct {
	Node     runtime.NodeID
	At       time.Duration
	Jump     time.Duration
	DriftPPM int64
}

func (c Clock) String() string {
	return fmt.Sprintf("clock of node %d: drift %d ppm, wall jump %v at %v", c.Node, c.DriftPPM, c.Jump, c.At)
}

func (Clock) Class() Class { return ClockJump }

func (c Clock) schedule(s *sim.Sim, _ Hooks, fired func(Class)) {
	if c.DriftPPM != 0 {
		s.Proc(c.Node).SetDrift(c.DriftPPM)
		fired(ClockDrift)
	}
	if c.Jump != 0 {
		s.At(c.At, "clock-jump", func() {
			s.Proc(c.Node).SkewWall(c.Jump)
			fired(ClockJump)
		})
	}
}

// Conns sets the client connections: latency up to MaxLatency, and
// fragmented writes.
type Conns struct {
	MaxLatency time.Duration
	Fragment   bool
}

func (c Conns) String() string {
	return fmt.Sprintf("client connections: latency up to %v, fragmented=%v", c.MaxLatency, c.Fragment)
}

func (Conns) Class() Class { return ConnSlow }

func (c Conns) schedule(s *sim.Sim, _ Hooks, fired func(Class)) {
	s.SetConnConfig(sim.ConnConfig{LatencyMin: c.MaxLatency / 4, LatencyMax: c.MaxLatency, Fragment: c.Fragment})
	fired(ConnSlow)
	if c.Fragment {
		fired(ConnFragment)
	}
}

// Plan is the faults of one run.
type Plan []Fault

func (p Plan) String() string {
	var b strings.Builder
	for i, f := range p {
		fmt.Fprintf(&b, "  fault %d: %s\n", i+1, f)
	}
	return b.String()
}

// Schedule arranges every fault of the plan in s; c counts what fires.
func (p Plan) Schedule(s *sim.Sim, h Hooks, c *Counter) {
	for _, f := range p {
		f.schedule(s, h, c.fire)
	}
}

// PlanConfig bounds what DrawSingleNode draws.
type PlanConfig struct {
	Node     runtime.NodeID
	Duration time.Duration // faults happen within it
	MaxCrash int
}

// DrawSingleNode draws the faults of a one-node run from r.
func DrawSingleNode(r *rand.Rand, cfg PlanConfig) Plan {
	p := Plan{
		Disk{Node: cfg.Node, MaxLatency: time.Duration(200+r.IntN(5000)) * time.Microsecond, ErrorPct: r.IntN(3)},
		Clock{Node: cfg.Node, At: time.Duration(r.Int64N(int64(cfg.Duration))), Jump: time.Duration(r.IntN(10_000)-5_000) * time.Millisecond, DriftPPM: int64(r.IntN(2001) - 1000)},
		Conns{MaxLatency: time.Duration(200+r.IntN(6000)) * time.Microsecond, Fragment: r.IntN(2) == 0},
	}
	for range r.IntN(cfg.MaxCrash + 1) {
		p = append(p, Crash{
			Node:    cfg.Node,
			At:      time.Duration(r.Int64N(int64(cfg.Duration))),
			Down:    time.Duration(10+r.IntN(2000)) * time.Millisecond,
			KeepPct: []int{0, 100, 1 + r.IntN(99)}[r.IntN(3)],
		})
	}
	return p
}

// Counter counts the faults that fired, by class, across runs.
type Counter struct{ fired map[Class]int }

// NewCounter makes an empty counter.
func NewCounter() *Counter { return &Counter{fired: map[Class]int{}} }

func (c *Counter) fire(cl Class) { c.fired[cl]++ }

// Fire counts a fault the run itself caused (a client disconnect).
func (c *Counter) Fire(cl Class) { c.fire(cl) }

// AddStats counts the faults a simulator's stats show fired.
func (c *Counter) AddStats(st sim.Stats) {
	if st.DiskErrors > 0 {
		c.fired[DiskErrors] += int(st.DiskErrors)
	}
}

// Count is how many times a class fired.
func (c *Counter) Count(cl Class) int { return c.fired[cl] }

// Missing lists the classes among want that never fired, sorted.
func (c *Counter) Missing(want []Class) []Class {
	var out []Class
	for _, cl := range want {
		if c.fired[cl] == 0 {
			out = append(out, cl)
		}
	}
	slices.Sort(out)
	return out
}

// String lists the counts, sorted by class.
func (c *Counter) String() string {
	classes := make([]Class, 0, len(c.fired))
	for cl := range c.fired {
		classes = append(classes, cl)
	}
	slices.Sort(classes)
	parts := make([]string, len(classes))
	for i, cl := range classes {
		parts[i] = fmt.Sprintf("%s=%d", cl, c.fired[cl])
	}
	return strings.Join(parts, " ")
}
