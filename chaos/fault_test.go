package chaos

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"
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
	out := p.Lines()
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

func genDuration(t *rapid.T, label string) time.Duration {
	return time.Duration(rapid.Int64Range(-int64(time.Hour), int64(time.Hour)).Draw(t, label))
}

func genFault(t *rapid.T) Fault {
	node := NodeID(rapid.Uint64Range(1, 9).Draw(t, "node"))
	switch rapid.IntRange(0, 8).Draw(t, "kind") {
	case 0:
		return Crash{Node: node, At: genDuration(t, "at"), Down: genDuration(t, "down"), KeepPct: rapid.IntRange(0, 100).Draw(t, "keep")}
	case 1:
		return Disk{Node: node, MaxLatency: genDuration(t, "latency"), ErrorPct: rapid.IntRange(0, 100).Draw(t, "errors")}
	case 2:
		return Clock{Node: node, At: genDuration(t, "at"), Jump: genDuration(t, "jump"), DriftPPM: rapid.Int64Range(-5000, 5000).Draw(t, "drift")}
	case 3:
		return Conns{MaxLatency: genDuration(t, "latency"), Fragment: rapid.Bool().Draw(t, "fragment")}
	case 7:
		return Receiver{At: genDuration(t, "at"), For: genDuration(t, "for"), Mode: rapid.SampledFrom(receiverModes).Draw(t, "mode")}
	case 4, 5, 6:
		return genClusterFault(t, node)
	}
	word := rapid.StringMatching(`[a-z0-9@#/_-]{1,8}`)
	return Step{At: genDuration(t, "at"), Action: word.Draw(t, "action"), Args: rapid.SliceOfN(word, 0, 3).Draw(t, "args")}
}

// A plan's text, on one line or as a report's numbered lines, parses back
// to the same plan.
func TestPlanTextParsesBackToThePlan(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var p Plan = Plan{}
		for range rapid.IntRange(0, 8).Draw(t, "n") {
			f := genFault(t)
			if s, ok := f.(Step); ok && len(s.Args) == 0 {
				s.Args = nil
				f = s
			}
			p = append(p, f)
		}
		for _, text := range []string{p.String(), p.Lines()} {
			got, err := ParsePlan(text)
			if err != nil {
				t.Fatalf("parsing %q: %v", text, err)
			}
			if !reflect.DeepEqual(got, p) {
				t.Fatalf("%q parsed as\n%v, want\n%v", text, got, p)
			}
		}
	})
}

func TestMalformedPlanEntriesAreRefused(t *testing.T) {
	for _, text := range []string{"crash node=1 at=soon down=1s keep=0%", "meteor node=1", "step at=1s", "conns latency=1ms fragment=maybe",
		"partition kind=sideways a=1 b=2 slot=0 at=1s for=1s", "link from=1 to=2 at=1s for=1s loss=1% dup=0% latency=1ms reorder=often", "power at=1s down=later"} {
		if _, err := ParsePlan(text); err == nil {
			t.Errorf("%q parsed", text)
		}
	}
}

func TestPlanWithoutAnEntryKeepsTheOthersInOrder(t *testing.T) {
	p := Plan{Disk{Node: 1}, Step{Action: "ban", Args: []string{"g1"}}, Crash{Node: 1, KeepPct: 100}}
	if got := p.Without(1); !reflect.DeepEqual(got, Plan{Disk{Node: 1}, Crash{Node: 1, KeepPct: 100}}) || len(p) != 3 {
		t.Fatalf("without 1: %v (plan %v)", got, p)
	}
	if len(p.Steps()) != 1 || len(p.Faults()) != 2 {
		t.Fatalf("steps %v faults %v", p.Steps(), p.Faults())
	}
}

func TestCoverageCountsFeaturesAndNamesTheMissing(t *testing.T) {
	c := NewCounter()
	c.Covered(Coverage{Resends: 2, Kicks: 0})
	c.Covered(Coverage{Resends: 1, CutPages: 4})
	if c.Feature(Resends) != 3 || c.Feature(CutPages) != 4 {
		t.Fatalf("counted %s", c)
	}
	if got := c.MissingFeatures([]Feature{Resends, Kicks, CutPages, Compactions}); !reflect.DeepEqual(got, []Feature{Compactions, Kicks}) {
		t.Fatalf("missing %v", got)
	}
	if line := (Coverage{Resends: 1}).Line([]Feature{Resends, Kicks}); line != "resends=1 kicks=0" {
		t.Fatalf("line %q", line)
	}
}

func TestEveryReceiverDrawHasEveryMode(t *testing.T) {
	for seed := range uint64(50) {
		classes := map[Class]bool{}
		for _, f := range DrawReceiver(rand.New(rand.NewPCG(seed, 0)), PlanConfig{Duration: 8 * time.Second}) {
			r := f.(Receiver)
			if r.At < 0 || r.At+r.For > 8*time.Second {
				t.Fatalf("seed %d: outage %s outside the run", seed, r)
			}
			classes[r.Class()] = true
		}
		for _, c := range ReceiverClasses {
			if !classes[c] {
				t.Fatalf("seed %d: no %s outage", seed, c)
			}
		}
	}
}
