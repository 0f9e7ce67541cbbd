package chaos

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/jindou-im/jindou/runtime"
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
	DiskFullSpace  Class = "disk-full" // a disk's space runs out, then returns
	ClockJump      Class = "clock-jump"
	ClockDrift     Class = "clock-drift"
	ConnSlow       Class = "conn-slow"
	ConnFragment   Class = "conn-fragment"
	ClientClose    Class = "client-close" // a client closes its connection
	ClientCut      Class = "client-cut"   // the network cuts a connection
	LinkFaults     Class = "link-faults"
	PartitionBoth  Class = "partition" // both directions between two nodes blocked
	// Workload is the class of a workload step: not a fault, a change the
	// run's own driver makes (a ban, a subscriber removed, ...).
	Workload Class = "workload"
)

// Fault is one entry of a plan: a plain value (node ids, times) that the
// simulated world interprets (sim/world.Schedule). Its String is one line
// of the plan's text form, which ParseFault reads back.
type Fault interface {
	fmt.Stringer
	Class() Class
}

// NodeID names a node of the simulated world.
type NodeID = runtime.NodeID

// Crash crashes Node at At (if it is up), keeping KeepPct percent of its
// unsynced writes, and starts it again Down later.
type Crash struct {
	Node    NodeID
	At      time.Duration
	Down    time.Duration
	KeepPct int
}

func (c Crash) String() string {
	return fmt.Sprintf("crash node=%d at=%v down=%v keep=%d%%", c.Node, c.At, c.Down, c.KeepPct)
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

// Disk sets a node's disk: commit latency up to MaxLatency, and ErrorPct
// percent of commits failing.
type Disk struct {
	Node       NodeID
	MaxLatency time.Duration
	ErrorPct   int
}

func (d Disk) String() string {
	return fmt.Sprintf("disk node=%d latency=%v errors=%d%%", d.Node, d.MaxLatency, d.ErrorPct)
}

func (d Disk) Class() Class {
	if d.ErrorPct > 0 {
		return DiskErrors
	}
	return DiskSlow
}

// DiskFull fills Node's disk at At: its commits fail with
// runtime.ErrDiskFull, writing nothing, until space returns For later.
type DiskFull struct {
	Node    NodeID
	At, For time.Duration
}

func (d DiskFull) String() string {
	return fmt.Sprintf("diskfull node=%d at=%v for=%v", d.Node, d.At, d.For)
}

func (DiskFull) Class() Class { return DiskFullSpace }

// drawDiskFull draws, one plan in two, a disk-full episode of 0.2-3 s on a
// node of 1..nodes within d.
func drawDiskFull(r *rand.Rand, nodes int, d time.Duration) Plan {
	if r.IntN(2) == 0 {
		return nil
	}
	return Plan{DiskFull{Node: NodeID(1 + r.IntN(nodes)), At: time.Duration(r.Int64N(int64(d))),
		For: time.Duration(200+r.IntN(2800)) * time.Millisecond}}
}

// Clock skews a node's wall clock by Jump at At, and makes its monotonic
// clock drift DriftPPM parts per million from the start.
type Clock struct {
	Node     NodeID
	At       time.Duration
	Jump     time.Duration
	DriftPPM int64
}

func (c Clock) String() string {
	return fmt.Sprintf("clock node=%d drift=%dppm jump=%v at=%v", c.Node, c.DriftPPM, c.Jump, c.At)
}

func (Clock) Class() Class { return ClockJump }

// Conns sets the client connections: latency up to MaxLatency, and
// fragmented writes.
type Conns struct {
	MaxLatency time.Duration
	Fragment   bool
}

func (c Conns) String() string {
	return fmt.Sprintf("conns latency=%v fragment=%v", c.MaxLatency, c.Fragment)
}

func (Conns) Class() Class { return ConnSlow }

// Step is one step of a run's workload that is part of its plan, so that
// replaying an edited plan and shrinking can drop it: at At, the run's
// driver does Action to Args (e.g. "ban g1", "sub-remove g2 u3"). What an
// action means is the driver's; chaos only carries it. Action and Args
// hold no spaces or semicolons.
type Step struct {
	At     time.Duration
	Action string
	Args   []string
}

func (s Step) String() string {
	if len(s.Args) == 0 {
		return fmt.Sprintf("step at=%v %s", s.At, s.Action)
	}
	return fmt.Sprintf("step at=%v %s %s", s.At, s.Action, strings.Join(s.Args, " "))
}

func (Step) Class() Class { return Workload }

// Plan is the faults (and workload steps) of one run.
type Plan []Fault

// String is the plan on one line, its entries separated by "; ":
// ParsePlan reads it back.
func (p Plan) String() string {
	parts := make([]string, len(p))
	for i, f := range p {
		parts[i] = f.String()
	}
	return strings.Join(parts, "; ")
}

// Lines is the plan one numbered entry a line, for a failure report.
// ParsePlan reads it back too.
func (p Plan) Lines() string {
	var b strings.Builder
	for i, f := range p {
		fmt.Fprintf(&b, "  fault %d: %s\n", i+1, f)
	}
	return b.String()
}

// Faults is the plan without its workload steps; Steps is only them.
func (p Plan) Faults() Plan { return p.filter(func(f Fault) bool { return f.Class() != Workload }) }

// Steps is the plan's workload steps.
func (p Plan) Steps() Plan { return p.filter(func(f Fault) bool { return f.Class() == Workload }) }

func (p Plan) filter(keep func(Fault) bool) Plan {
	out := Plan{}
	for _, f := range p {
		if keep(f) {
			out = append(out, f)
		}
	}
	return out
}

// Without is the plan with entry i left out.
func (p Plan) Without(i int) Plan {
	out := append(Plan{}, p[:i]...)
	return append(out, p[i+1:]...)
}

// ParsePlan reads a plan from its String or Lines form: entries separated
// by ";" or newlines, each optionally prefixed "fault N:".
func ParsePlan(s string) (Plan, error) {
	p := Plan{}
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == '\n' }) {
		part = strings.TrimSpace(part)
		if strings.HasPrefix(part, "fault ") {
			if _, rest, ok := strings.Cut(part, ":"); ok {
				part = strings.TrimSpace(rest)
			}
		}
		if part == "" {
			continue
		}
		f, err := ParseFault(part)
		if err != nil {
			return nil, err
		}
		p = append(p, f)
	}
	return p, nil
}

// ParseFault reads one entry of a plan from its String form.
func ParseFault(s string) (Fault, error) {
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return nil, fmt.Errorf("chaos: empty plan entry")
	}
	kv := map[string]string{}
	var rest []string
	for _, f := range fields[1:] {
		if k, v, ok := strings.Cut(f, "="); ok && len(rest) == 0 {
			kv[k] = v
		} else {
			rest = append(rest, f)
		}
	}
	var err error
	dur := func(k string) time.Duration {
		d, e := time.ParseDuration(kv[k])
		if e != nil && err == nil {
			err = fmt.Errorf("chaos: %q: %s: %v", s, k, e)
		}
		return d
	}
	num := func(k, suffix string) int64 {
		n, e := strconv.ParseInt(strings.TrimSuffix(kv[k], suffix), 10, 64)
		if e != nil && err == nil {
			err = fmt.Errorf("chaos: %q: %s: %v", s, k, e)
		}
		return n
	}
	var f Fault
	if cf, ok, cerr := parseCluster(fields[0], kv, dur, num); ok {
		if cerr != nil {
			return nil, fmt.Errorf("chaos: %q: %v", s, cerr)
		}
		if err != nil {
			return nil, err
		}
		return cf, nil
	}
	switch fields[0] {
	case "crash":
		f = Crash{Node: NodeID(num("node", "")), At: dur("at"), Down: dur("down"), KeepPct: int(num("keep", "%"))}
	case "disk":
		f = Disk{Node: NodeID(num("node", "")), MaxLatency: dur("latency"), ErrorPct: int(num("errors", "%"))}
	case "diskfull":
		f = DiskFull{Node: NodeID(num("node", "")), At: dur("at"), For: dur("for")}
	case "clock":
		f = Clock{Node: NodeID(num("node", "")), DriftPPM: num("drift", "ppm"), Jump: dur("jump"), At: dur("at")}
	case "conns":
		frag, e := strconv.ParseBool(kv["fragment"])
		if e != nil {
			err = fmt.Errorf("chaos: %q: fragment: %v", s, e)
		}
		f = Conns{MaxLatency: dur("latency"), Fragment: frag}
	case "receiver":
		if len(rest) != 1 {
			return nil, fmt.Errorf("chaos: %q: a receiver entry names one mode", s)
		}
		f = Receiver{At: dur("at"), For: dur("for"), Mode: rest[0]}
	case "step":
		if len(rest) == 0 {
			return nil, fmt.Errorf("chaos: %q: a step without an action", s)
		}
		st := Step{At: dur("at"), Action: rest[0]}
		if len(rest) > 1 {
			st.Args = rest[1:]
		}
		f = st
	default:
		return nil, fmt.Errorf("chaos: %q: unknown plan entry %q", s, fields[0])
	}
	if err != nil {
		return nil, err
	}
	return f, nil
}

// PlanConfig bounds what DrawSingleNode draws.
type PlanConfig struct {
	Node     NodeID
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
	return append(p, drawDiskFull(r, 1, cfg.Duration)...)
}
