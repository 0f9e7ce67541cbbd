package sim_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/jindou-im/jindou/chaos"
	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/runtime"
	"github.com/jindou-im/jindou/sim/world"
)

// reportLog collects what the seed harness reports instead of failing the
// test.
type reportLog struct{ lines []string }

func (r *reportLog) Errorf(format string, args ...any) {
	r.lines = append(r.lines, fmt.Sprintf(format, args...))
}

func (r *reportLog) String() string { return strings.Join(r.lines, "\n") }

// errBrokenInvariant stands for what the node's assertions panic with.
var errBrokenInvariant = errors.New("invariant: a deliberately broken invariant")

// A node that fails to restart and a panic inside a loop turn are each
// reported as their seed's failure, with the fault plan and the replay
// command, and the seeds after them still run.
func TestFailingSeedsAreReportedAndTheOthersStillRun(t *testing.T) {
	sabotage := map[uint64]func(*seedWorld){
		// At 1s the node crashes and its data directory becomes a file:
		// its restart's Start fails.
		1: func(sw *seedWorld) {
			sw.Sim.At(time.Second, "unopenable-restart", func() {
				n := sw.nodes[0]
				if n.Up() {
					n.Crash(100)
				}
				fs := n.Proc().FS()
				if err := fs.RemoveAll("data"); err != nil {
					t.Errorf("removing the data directory: %v", err)
				}
				f, err := fs.Create("data", vfs.WriteCategoryUnspecified)
				if err != nil {
					t.Errorf("a file in place of the data directory: %v", err)
				} else {
					f.Close()
				}
				if n.Start() == nil {
					t.Error("a node whose data directory is a file started")
				}
			})
		},
		// The first SENDACK of a user panics with an error value on its
		// loop, as an assertion of the node would on the node's.
		2: func(sw *seedWorld) {
			for _, u := range sw.users {
				if len(u.targets) > 0 {
					u.c.OnSendack = func(*world.Sent, *proto.Sendack) { panic(errBrokenInvariant) }
					return
				}
			}
		},
	}
	counter := chaos.NewCounter()
	reports := map[uint64]*reportLog{}
	results := map[uint64]*nodeSeedResult{}
	for seed := uint64(1); seed <= 3; seed++ {
		reports[seed] = &reportLog{}
		results[seed] = runAndReportSeed(t, reports[seed], seed, counter, seedOpts{watch: sabotage[seed]})
	}
	for seed, want := range map[uint64][]string{
		1: {"safety phase: sim: node 1 incarnation 2 failed to start", "not a directory"},
		2: {"panic: " + errBrokenInvariant.Error(), "seedharness_test.go"},
	} {
		got := reports[seed].String()
		want = append(want, fmt.Sprintf("seed %d fault plan:\n  fault 1: disk node=1", seed),
			fmt.Sprintf("replay: go test ./sim -run '^TestSeeds$' -seed=%d -v", seed))
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("seed %d's report lacks %q:\n%s", seed, w, got)
			}
		}
	}
	if r := results[3]; len(reports[3].lines) > 0 || r.acked == 0 || r.report.Ops == 0 {
		t.Errorf("the seed after the failures: %d acked, %d operations checked, report:\n%s", r.acked, r.report.Ops, reports[3])
	}
}

// Two nodes that say they lead one slot in one term are a seed's failure;
// one node leading it again in a later term, or two slots, are not.
func TestTwoLeadersOfASlotInATermAreASeedsFailure(t *testing.T) {
	sw := &seedWorld{World: world.New(t, 1), res: &nodeSeedResult{}, leaders: map[slotTerm]runtime.NodeID{}}
	sw.sampleLeaders(1, node.StatsReply{LedSlots: []int{0, 3}, LedTerms: []uint64{2, 2}})
	sw.sampleLeaders(2, node.StatsReply{LedSlots: []int{0}, LedTerms: []uint64{3}})
	sw.sampleLeaders(1, node.StatsReply{LedSlots: []int{3}, LedTerms: []uint64{2}})
	if len(sw.res.failures) != 0 {
		t.Fatalf("failures for leaders in distinct terms: %v", sw.res.failures)
	}
	sw.sampleLeaders(3, node.StatsReply{LedSlots: []int{3}, LedTerms: []uint64{2}})
	if len(sw.res.failures) != 1 || !strings.Contains(sw.res.failures[0], "slot 3 has two leaders in term 2: nodes 1 and 3") {
		t.Fatalf("failures: %v", sw.res.failures)
	}
}
