package sim_test

import (
	"flag"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/jindou-im/jindou/chaos"
)

// Replaying a node seed with an edited plan, and shrinking a failing
// seed's plan.

var (
	planFlag   = flag.String("plan", "", "TestSeeds: run -seed with this plan (its faults and workload steps, as a failure prints it) instead of the one it draws")
	nodesFlag  = flag.Int("nodes", 0, "TestSeeds: run the seeds with clusters of this size (1-5) instead of the drawn one")
	shrinkFlag = flag.Bool("shrink", false, "TestSeeds: for a failing seed, drop the plan's faults and workload steps one at a time while the failure persists, and print the smallest plan that still fails")
)

// planFlags reads -plan: the options of the seeds, and whether one seed is
// replayed with a given plan.
func planFlags(t *testing.T) (seedOpts, bool) {
	if *nodesFlag < 0 || *nodesFlag > 5 {
		t.Fatalf("-nodes=%d: want 1 to 5", *nodesFlag)
	}
	if *planFlag == "" {
		return seedOpts{nodes: *nodesFlag}, false
	}
	p, err := chaos.ParsePlan(*planFlag)
	if err != nil {
		t.Fatalf("-plan: %v", err)
	}
	return seedOpts{plan: p, nodes: *nodesFlag}, true
}

// nodesFlagText is the -nodes flag that replays a seed run with nodes
// (0: drawn, no flag).
func nodesFlagText(nodes int) string {
	if nodes == 0 {
		return ""
	}
	return fmt.Sprintf(" -nodes=%d", nodes)
}

// failureSignature is what a failure is, without its times and numbers:
// the shrinker keeps a smaller plan only if the seed still fails so.
func failureSignature(failures []string) string {
	if len(failures) == 0 {
		return ""
	}
	f := failures[0]
	if _, rest, ok := strings.Cut(f, ": "); ok && strings.HasPrefix(f, "at ") {
		f = rest
	}
	f = regexp.MustCompile(`[0-9]+(\.[0-9]+)?(ms|µs|ns|s)?`).ReplaceAllString(f, "N")
	if len(f) > 60 {
		f = f[:60]
	}
	return f
}

// shrinkPlan drops the entries of plan one at a time, keeping a drop while
// fails (a run of the seed with the smaller plan) still reports the same
// failure, until no single entry can go. It returns the smallest plan
// found and how many runs it took.
func shrinkPlan(plan chaos.Plan, fails func(chaos.Plan) bool) (chaos.Plan, int) {
	runs := 0
	cur := plan
	for changed := true; changed; {
		changed = false
		for i := len(cur) - 1; i >= 0; i-- {
			cand := cur.Without(i)
			runs++
			if fails(cand) {
				cur, changed = cand, true
			}
		}
	}
	return cur, runs
}

// shrinkSeed shrinks a failing seed's plan and prints the result.
func shrinkSeed(t *testing.T, seed uint64, plan chaos.Plan) {
	first := runNodeSeed(t, seed, chaos.NewCounter(), seedOpts{plan: plan, nodes: *nodesFlag})
	sig := failureSignature(first.failures)
	if sig == "" {
		t.Logf("seed %d: shrink: it does not fail again with its plan", seed)
		return
	}
	small, runs := shrinkPlan(plan, func(p chaos.Plan) bool {
		r := runNodeSeed(t, seed, chaos.NewCounter(), seedOpts{plan: p, quiet: true, nodes: *nodesFlag})
		return failureSignature(r.failures) == sig
	})
	fmt.Printf("shrink: seed %d fails (%q) with %d of its %d plan entries (%d faults, %d steps), after %d runs:\n%s",
		seed, sig, len(small), len(plan), len(small.Faults()), len(small.Steps()), runs, small.Lines())
	fmt.Printf("replay: go test -tags jindou_invariants ./sim -run '^TestSeeds$' -seed=%d%s -plan='%s' -v\n", seed, nodesFlagText(*nodesFlag), small)
	t.Errorf("seed %d: smallest failing plan: %s", seed, small)
}
