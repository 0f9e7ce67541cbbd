package chaos

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"
)

func genClusterFault(t *rapid.T, node NodeID) Fault {
	switch rapid.IntRange(0, 2).Draw(t, "cluster kind") {
	case 0:
		kind := rapid.SampledFrom([]PartitionKind{PartBoth, PartOneWay, PartIsolate, PartLeader}).Draw(t, "partition")
		return Partition{Kind: kind, A: node, B: NodeID(rapid.Uint64Range(0, 9).Draw(t, "b")), Slot: rapid.IntRange(0, 99).Draw(t, "slot"),
			At: genDuration(t, "at"), For: genDuration(t, "for")}
	case 1:
		return Link{From: node, To: NodeID(rapid.Uint64Range(0, 9).Draw(t, "to")), At: genDuration(t, "at"), For: genDuration(t, "for"),
			LossPct: rapid.IntRange(0, 100).Draw(t, "loss"), DupPct: rapid.IntRange(0, 100).Draw(t, "dup"),
			MaxLatency: genDuration(t, "latency"), Reorder: rapid.Bool().Draw(t, "reorder")}
	}
	return PowerLoss{At: genDuration(t, "at"), Down: genDuration(t, "down")}
}

// clusterClasses are every class DrawCluster may draw for a cluster of
// several nodes.
var clusterClasses = []Class{CrashPowerLoss, CrashProcess, CrashTorn, CrashCluster, DiskSlow, ClockJump, ConnSlow,
	PartitionBoth, PartitionOneWay, PartitionIsolate, PartitionLeader, PartitionController, LinkFaults, LinkLoss, LinkDup, LinkDelay, LinkReorder,
	MemberJoin, MemberRemove, StopGraceful}

func drawnClasses(p Plan) map[Class]bool {
	out := map[Class]bool{}
	for _, f := range p {
		out[f.Class()] = true
		if l, ok := f.(Link); ok {
			for _, cl := range l.Classes() {
				out[cl] = true
			}
		}
	}
	return out
}

func TestClusterPlansDrawEveryClassOverFiftySeeds(t *testing.T) {
	seen := map[Class]bool{}
	for seed := range uint64(50) {
		p := DrawCluster(rand.New(rand.NewPCG(seed, 0)), ClusterConfig{Nodes: 3, Slots: 8, Duration: 8 * time.Second, MaxCrash: 3})
		for cl := range drawnClasses(p) {
			seen[cl] = true
		}
		for _, f := range p {
			switch f := f.(type) {
			case Partition:
				if f.At < 0 || f.At >= 8*time.Second || f.For <= 0 {
					t.Fatalf("seed %d: %s outside the run", seed, f)
				}
				if f.Kind == PartLeader && (f.Slot < 0 || f.Slot >= 8) && f.Slot != ControllerSlot {
					t.Fatalf("seed %d: %s names no slot of 8", seed, f)
				}
				if (f.Kind == PartBoth || f.Kind == PartOneWay) && (f.A == f.B || f.A < 1 || f.A > 3 || f.B < 1 || f.B > 3) {
					t.Fatalf("seed %d: %s between no two nodes of 3", seed, f)
				}
			case Crash:
				if f.Node < 1 || f.Node > 3 {
					t.Fatalf("seed %d: %s of no node of 3", seed, f)
				}
			}
		}
	}
	for _, cl := range clusterClasses {
		if !seen[cl] {
			t.Errorf("class %s never drawn in 50 plans", cl)
		}
	}
}

func TestOneNodeClusterPlansHaveNoLinkFaults(t *testing.T) {
	for seed := range uint64(30) {
		p := DrawCluster(rand.New(rand.NewPCG(seed, 1)), ClusterConfig{Nodes: 1, Slots: 4, Duration: time.Second, MaxCrash: 3})
		for _, f := range p {
			switch f.(type) {
			case Partition, Link:
				t.Fatalf("seed %d: a one-node plan holds %s", seed, f)
			}
		}
	}
}

func TestLinkFaultClassesNameEachKindOfFault(t *testing.T) {
	l := Link{LossPct: 3, Reorder: true}
	if got := l.Classes(); !slices.Equal(got, []Class{LinkFaults, LinkLoss, LinkReorder}) {
		t.Fatalf("classes %v", got)
	}
	if got := (Link{DupPct: 1, MaxLatency: time.Millisecond}).Classes(); !slices.Equal(got, []Class{LinkFaults, LinkDup, LinkDelay}) {
		t.Fatalf("classes %v", got)
	}
}

func TestClusterPlansWithoutDupReorderHaveOnlyLossAndDelay(t *testing.T) {
	seen := map[Class]bool{}
	for seed := range uint64(50) {
		p := DrawCluster(rand.New(rand.NewPCG(seed, 0)), ClusterConfig{Nodes: 3, Slots: 8, Duration: 8 * time.Second, MaxCrash: 3, NoDupReorder: true})
		for cl := range drawnClasses(p) {
			seen[cl] = true
		}
	}
	if seen[LinkDup] || seen[LinkReorder] || !seen[LinkLoss] || !seen[LinkDelay] {
		t.Fatalf("drew %v", seen)
	}
}
