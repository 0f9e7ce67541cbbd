package world_test

import (
	"slices"
	"testing"
	"time"

	"github.com/jindou-im/jindou/chaos"
	"github.com/jindou-im/jindou/runtime"
	"github.com/jindou-im/jindou/sim/world"
)

// idle is a process that does nothing.
type idle struct{ loop runtime.Loop }

func (p *idle) Start(env runtime.Env) error          { p.loop = env.NewLoop("main", p); return nil }
func (p *idle) Accept(runtime.ConnInfo) runtime.Loop { return p.loop }
func (p *idle) Stop()                                {}
func (p *idle) Kill()                                {}
func (p *idle) Handle(runtime.Event)                 {}

func TestScheduledCrashFiresRestartsAndCallsTheHooks(t *testing.T) {
	w := newIdleWorld(t)
	c := chaos.NewCounter()
	var crashed, restarted []runtime.NodeID
	var steps []string
	w.Schedule(chaos.Plan{
		chaos.Crash{Node: 1, At: time.Second, Down: 100 * time.Millisecond, KeepPct: 0},
		chaos.Crash{Node: 1, At: 1050 * time.Millisecond, Down: time.Second, KeepPct: 100}, // while down: no effect
		chaos.Clock{Node: 1, At: 2 * time.Second, Jump: time.Hour, DriftPPM: 10},
		chaos.Step{At: 1500 * time.Millisecond, Action: "ban", Args: []string{"g1"}},
	}, worldHooks(&crashed, &restarted, &steps), c)
	if err := w.Sim.Run(3 * time.Second); err != nil {
		t.Fatal(err)
	}
	if st := w.Sim.Stats(); st.Crashes != 1 || st.Restarts != 1 || !slices.Equal(restarted, []runtime.NodeID{1}) || !slices.Equal(crashed, []runtime.NodeID{1}) {
		t.Fatalf("crashes %d restarts %d hooks %v %v", st.Crashes, st.Restarts, crashed, restarted)
	}
	if !slices.Equal(steps, []string{"step at=1.5s ban g1"}) {
		t.Fatalf("steps done: %q", steps)
	}
	if c.Count(chaos.CrashPowerLoss) != 1 || c.Count(chaos.CrashProcess) != 0 || c.Count(chaos.ClockJump) != 1 || c.Count(chaos.ClockDrift) != 1 {
		t.Fatalf("fired: %s", c)
	}
	if missing := c.Missing([]chaos.Class{chaos.CrashPowerLoss, chaos.CrashTorn, chaos.DiskErrors}); !slices.Equal(missing, []chaos.Class{chaos.CrashTorn, chaos.DiskErrors}) {
		t.Fatalf("missing %v", missing)
	}
}

func newIdleWorld(t *testing.T) *world.World {
	w := world.New(t, 1)
	w.Sim.AddProcess(1, func() runtime.Process { return &idle{} }).Start()
	return w
}

func worldHooks(crashed, restarted *[]runtime.NodeID, steps *[]string) world.Hooks {
	return world.Hooks{
		BeforeCrash:  func(id runtime.NodeID) { *crashed = append(*crashed, id) },
		AfterRestart: func(id runtime.NodeID) { *restarted = append(*restarted, id) },
		Step:         func(s chaos.Step) { *steps = append(*steps, s.String()) },
	}
}
