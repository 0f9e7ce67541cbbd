package sim_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/jindou-im/jindou/chaos"
)

// The shrinker keeps exactly the entries the failure needs: here, a
// failure that needs one crash and one workload step of a larger plan.
func TestShrinkingKeepsOnlyTheEntriesTheFailureNeeds(t *testing.T) {
	crash := chaos.Crash{Node: 1, At: time.Second, Down: time.Second, KeepPct: 0}
	ban := chaos.Step{At: 2 * time.Second, Action: "info", Args: []string{"r0", "ban"}}
	plan := chaos.Plan{
		chaos.Disk{Node: 1, MaxLatency: time.Millisecond, ErrorPct: 1},
		crash,
		chaos.Clock{Node: 1, At: time.Second, Jump: time.Second},
		chaos.Step{At: time.Second, Action: "sub-add", Args: []string{"r0", "u1"}},
		ban,
		chaos.Crash{Node: 1, At: 3 * time.Second, Down: time.Second, KeepPct: 100},
	}
	has := func(p chaos.Plan, f chaos.Fault) bool {
		for _, g := range p {
			if reflect.DeepEqual(g, f) {
				return true
			}
		}
		return false
	}
	small, runs := shrinkPlan(plan, func(p chaos.Plan) bool { return has(p, crash) && has(p, ban) })
	if !reflect.DeepEqual(small, chaos.Plan{crash, ban}) {
		t.Fatalf("shrunk to %v", small)
	}
	if runs > len(plan)*len(plan) {
		t.Fatalf("%d runs for a plan of %d", runs, len(plan))
	}
}

func TestAFailuresSignatureIgnoresItsTimesAndNumbers(t *testing.T) {
	a := failureSignature([]string{"at 1.5s: history check: delivered after a kick: channel 2:g seq 4: connection u1#3"})
	b := failureSignature([]string{"at 2.25s: history check: delivered after a kick: channel 2:g seq 7: connection u2#9"})
	if a != b || a == "" {
		t.Fatalf("%q vs %q", a, b)
	}
	if c := failureSignature([]string{"at 1s: quiet phase: not settled"}); c == a {
		t.Fatalf("two failures, one signature %q", c)
	}
}

// A seed replayed with its own plan, printed and parsed back, is the same
// run: the plan is all the faults and workload steps the seed drew.
func TestASeedReplayedWithItsPrintedPlanRunsTheSame(t *testing.T) {
	first := runNodeSeed(t, 3, chaos.NewCounter(), seedOpts{quiet: true})
	plan, err := chaos.ParsePlan(first.plan.String())
	if err != nil {
		t.Fatal(err)
	}
	again := runNodeSeed(t, 3, chaos.NewCounter(), seedOpts{plan: plan, quiet: true})
	if again.trace != first.trace || len(first.plan.Steps()) == 0 {
		t.Fatalf("trace %016x with the printed plan, %016x drawn (%d steps)", again.trace, first.trace, len(first.plan.Steps()))
	}
	fewer := runNodeSeed(t, 3, chaos.NewCounter(), seedOpts{plan: plan.Faults(), quiet: true})
	if fewer.trace == first.trace {
		t.Fatal("dropping the workload steps changed nothing")
	}
}
