package world_test

import (
	"slices"
	"testing"
	"time"

	"github.com/jindou-im/jindou/chaos"
	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/runtime"
	"github.com/jindou-im/jindou/sim"
	"github.com/jindou-im/jindou/sim/world"
)

func newIdleCluster(t *testing.T, size int) *world.World {
	w := world.New(t, 1)
	for id := 1; id <= size; id++ {
		w.Sim.AddProcess(runtime.NodeID(id), func() runtime.Process { return &idle{} }).Start()
	}
	return w
}

// Two partitions that block one link keep it blocked until the later one
// ends; an isolation blocks every link of its node, both ways.
func TestOverlappingPartitionsBlockALinkUntilTheLastEnds(t *testing.T) {
	w := newIdleCluster(t, 3)
	c := chaos.NewCounter()
	w.Schedule(chaos.Plan{
		chaos.Partition{Kind: chaos.PartBoth, A: 1, B: 2, At: time.Second, For: time.Second},
		chaos.Partition{Kind: chaos.PartOneWay, A: 1, B: 2, At: 1500 * time.Millisecond, For: time.Second},
		chaos.Partition{Kind: chaos.PartIsolate, A: 3, At: 4 * time.Second, For: time.Second},
	}, world.Hooks{}, c)
	at := func(d time.Duration) {
		t.Helper()
		if err := w.Sim.Run(d); err != nil {
			t.Fatal(err)
		}
	}
	at(1200 * time.Millisecond)
	if !w.Sim.Blocked(1, 2) || !w.Sim.Blocked(2, 1) || w.Sim.Blocked(1, 3) {
		t.Fatal("the partition of 1 and 2 does not block exactly their links")
	}
	at(2200 * time.Millisecond)
	if !w.Sim.Blocked(1, 2) || w.Sim.Blocked(2, 1) {
		t.Fatalf("after the first partition: 1→2 blocked %v, 2→1 blocked %v; want only 1→2 (the one-way one still on)", w.Sim.Blocked(1, 2), w.Sim.Blocked(2, 1))
	}
	at(2600 * time.Millisecond)
	if w.Sim.Blocked(1, 2) {
		t.Fatal("1→2 still blocked after both partitions ended")
	}
	at(4500 * time.Millisecond)
	for _, other := range []runtime.NodeID{1, 2} {
		if !w.Sim.Blocked(3, other) || !w.Sim.Blocked(other, 3) {
			t.Fatalf("node 3 isolated, but its link with %d is open", other)
		}
	}
	w.HealAll()
	at(6 * time.Second) // the isolation's end after HealAll changes nothing
	if w.Sim.Blocked(3, 1) || w.Sim.Blocked(1, 3) {
		t.Fatal("HealAll left a link blocked")
	}
	if c.Count(chaos.PartitionBoth) != 1 || c.Count(chaos.PartitionOneWay) != 1 || c.Count(chaos.PartitionIsolate) != 1 {
		t.Fatalf("fired: %s", c)
	}
}

func TestLinkFaultsLastTheirTimeAndFireEachKind(t *testing.T) {
	w := newIdleCluster(t, 3)
	c := chaos.NewCounter()
	w.Schedule(chaos.Plan{
		chaos.Link{From: 1, To: 2, At: time.Second, For: time.Second, LossPct: 10, MaxLatency: 30 * time.Millisecond},
		chaos.Link{At: 3 * time.Second, For: time.Second, DupPct: 5, Reorder: true},
	}, world.Hooks{}, c)
	if err := w.Sim.Run(1500 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if l := w.Sim.Link(2, 1); l.LossPct != 10 || l.LatencyMax != 30*time.Millisecond || l.Reorder {
		t.Fatalf("link 2→1 during the first fault: %+v", l)
	}
	if l := w.Sim.Link(1, 3); l != sim.DefaultLinkConfig() {
		t.Fatalf("link 1→3 touched by a fault of 1↔2: %+v", l)
	}
	if err := w.Sim.Run(3500 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if l := w.Sim.Link(1, 2); l.LossPct != 0 || l.DupPct != 5 || !l.Reorder {
		t.Fatalf("link 1→2 during the second fault: %+v", l)
	}
	if err := w.Sim.Run(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if l := w.Sim.Link(3, 2); l != sim.DefaultLinkConfig() {
		t.Fatalf("link 3→2 after the faults: %+v", l)
	}
	for _, cl := range []chaos.Class{chaos.LinkFaults, chaos.LinkLoss, chaos.LinkDelay, chaos.LinkDup, chaos.LinkReorder} {
		if c.Count(cl) == 0 {
			t.Errorf("%s never fired: %s", cl, c)
		}
	}
}

func TestPowerLossCrashesEveryUpNodeAndRestartsThem(t *testing.T) {
	w := newIdleCluster(t, 3)
	w.Sim.Proc(2).Crash(100) // down already: untouched by the power loss
	c := chaos.NewCounter()
	var crashed, restarted []runtime.NodeID
	w.Schedule(chaos.Plan{chaos.PowerLoss{At: time.Second, Down: 500 * time.Millisecond}}, world.Hooks{
		BeforeCrash:  func(id runtime.NodeID) { crashed = append(crashed, id) },
		AfterRestart: func(id runtime.NodeID) { restarted = append(restarted, id) },
	}, c)
	if err := w.Sim.Run(2 * time.Second); err != nil {
		t.Fatal(err)
	}
	if want := []runtime.NodeID{1, 3}; !slices.Equal(crashed, want) || !slices.Equal(restarted, want) {
		t.Fatalf("crashed %v, restarted %v; want %v", crashed, restarted, want)
	}
	if w.Sim.Proc(2).Up() || !w.Sim.Proc(1).Up() || c.Count(chaos.CrashCluster) != 1 {
		t.Fatalf("node 2 up %v, node 1 up %v, fired %s", w.Sim.Proc(2).Up(), w.Sim.Proc(1).Up(), c)
	}
}

// A leader partition isolates the node that leads the slot when it fires:
// another node is elected, and the old leader's links open again after.
func TestLeaderPartitionIsolatesTheSlotsLeaderAtItsTime(t *testing.T) {
	w := world.New(t, 21)
	w.AddCluster(3, node.Config{Slots: 4, SlotLoops: 1, GatewayLoops: 1})
	w.Until("slot 2 has a leader", func() bool { return w.LeaderOf(2) != nil })
	old := w.LeaderOf(2)
	c := chaos.NewCounter()
	start := w.Now()
	w.Schedule(chaos.Plan{chaos.Partition{Kind: chaos.PartLeader, Slot: 2, At: start + 100*time.Millisecond, For: 3 * time.Second}}, world.Hooks{}, c)
	w.RunFor(200 * time.Millisecond)
	var other runtime.NodeID = 1
	if other == old.ID() {
		other = 2
	}
	if !w.Sim.Blocked(old.ID(), other) || !w.Sim.Blocked(other, old.ID()) || c.Count(chaos.PartitionLeader) != 1 {
		t.Fatalf("node %d led slot 2, yet its link with %d is open (fired %s)", old.ID(), other, c)
	}
	w.Until("another node leads slot 2", func() bool {
		n := w.LeaderOf(2)
		return n != nil && n != old && !slices.Contains(leads(t, old), 2)
	})
	w.RunFor(3 * time.Second)
	if w.Sim.Blocked(old.ID(), other) {
		t.Fatal("the old leader is still isolated after the partition's time")
	}
}

func leads(t *testing.T, n *world.Node) []int {
	v, err := n.Call(node.Stats{})
	if err != nil {
		t.Fatal(err)
	}
	return v.(node.StatsReply).LedSlots
}
