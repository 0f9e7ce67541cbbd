package chaos

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jindou-im/jindou/runtime"
	"github.com/jindou-im/jindou/sim"
)

func TestCrashClassFollowsTheShareOfUnsyncedWritesKept(t *testing.T) {
	for keep, want := range map[int]Class{0: CrashPowerLoss, 100: CrashProcess, 37: CrashTorn} {
		if got := (Crash{KeepPct: keep}).Class(); got != want {
			t.Errorf("keep %d%%: class %s, want %s", keep, got, want)
		}
	}
}

func TestPlanPrintsEveryFault(t *testing.T) {
	p := DrawSingleNode(rand.New(rand.NewPCG(1, 2)), PlanConfig{Node: 1, Duration: 5 * time.Second, MaxCrash: 3})
	out := p.String()
	if got := strings.Count(out, "\n"); got != len(p) {
		t.Fatalf("%d lines for %d faults:\n%s", got, len(p), out)
	}
	for _, f := range p {
		if !strings.Contains(out, f.String()) {
			t.Fatalf("plan output lacks %q", f)
		}
	}
}

func TestSameSeedDrawsTheSamePlan(t *testing.T) {
	draw := func(seed uint64) string {
		return DrawSingleNode(rand.New(rand.NewPCG(seed, 0)), PlanConfig{Node: 1, Duration: time.Second, MaxCrash: 3}).String()
	}
	if draw(5) != draw(5) {
		t.Fatal("one seed drew two plans")
	}
	if draw(5) == draw(6) {
		t.Fatal("two seeds drew one plan")
	}
}

// idle is a process that does nothing.
type idle struct{ loop runtime.Loop }

func (p *idle) Start(env runtime.Env) error          { p.loop = env.NewLoop("main", p); return nil }
func (p *idle) Accept(runtime.ConnInfo) runtime.Loop { return p.loop }
func (p *idle) Stop()                                {}
func (p *idle) Kill()                                {}
func (p *idle) Handle(runtime.Event)                 {}

func TestScheduledCrashFiresRestartsAndCallsTheHook(t *testing.T) {
	s := sim.New(sim.Config{Seed: 1})
	s.AddProcess(1, func() runtime.Process { return &idle{} }).Start()
	c := NewCounter()
	var restarted []runtime.NodeID
	Plan{
		Crash{Node: 1, At: time.Second, Down: 100 * time.Millisecond, KeepPct: 0},
		Crash{Node: 1, At: 1050 * time.Millisecond, Down: time.Second, KeepPct: 100}, // while down: no effect
		Clock{Node: 1, At: 2 * time.Second, Jump: time.Hour, DriftPPM: 10},
	}.Schedule(s, Hooks{AfterRestart: func(id runtime.NodeID) { restarted = append(restarted, id) }}, c)
	if err := s.Run(3 * time.Second); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Crashes != 1 || st.Restarts != 1 || !slices.Equal(restarted, []runtime.NodeID{1}) {
		t.Fatalf("crashes %d restarts %d hook %v", st.Crashes, st.Restarts, restarted)
	}
	if c.Count(CrashPowerLoss) != 1 || c.Count(CrashProcess) != 0 || c.Count(ClockJump) != 1 || c.Count(ClockDrift) != 1 {
		t.Fatalf("fired: %s", c)
	}
	if missing := c.Missing([]Class{CrashPowerLoss, CrashTorn, DiskErrors}); !slices.Equal(missing, []Class{CrashTorn, DiskErrors}) {
		t.Fatalf("missing %v", missing)
	}
}
