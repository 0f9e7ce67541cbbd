package sim_test

import (
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/jindou-im/jindou/chaos"
	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/runtime"
	"github.com/jindou-im/jindou/sim/world"
)

// The cluster of a node seed: its shape, which node an API call or a
// client goes to, the errors a cluster answers while it elects or is cut
// off, and the checks only a cluster has — one leader per slot and term,
// and replicas that agree once healed.

// clusterShape is the seed's cluster, drawn from its own stream.
type clusterShape struct {
	nodes, replicas int
}

// drawShape draws the cluster's size (mostly 3) and replica count (mostly
// 3; the node clamps it to the size).
func drawShape(r *rand.Rand) clusterShape {
	var s clusterShape
	switch k := r.IntN(100); {
	case k < 15:
		s.nodes = 1
	case k < 25:
		s.nodes = 2
	case k < 75:
		s.nodes = 3
	case k < 85:
		s.nodes = 4
	default:
		s.nodes = 5
	}
	s.replicas = []int{1, 2, 3, 3, 3, 3, 3, 3}[r.IntN(8)]
	return s
}

const (
	// retryDelay is how long the harness waits before asking again after
	// a cluster-transient error or a request lost with its node.
	retryDelay = 100 * time.Millisecond
	// setupAttempts bounds the retries of the set-up calls (channels
	// created before the faults start) while the cluster elects.
	setupAttempts = 200
	// convergeBound is how long after the quiet phase every replica of a
	// slot must reach the same applied index.
	convergeBound = 10 * time.Second
	// clusterRequestTimeout is the send and API timeout of a cluster's
	// nodes: a request cut off by a partition fails (and is retried)
	// within the safety phase.
	clusterRequestTimeout = 3 * time.Second
	// clusterSlotsDivisor divides the slots a cluster's seed draws.
	clusterSlotsDivisor = 4
)

// transient: err is what a cluster answers while a slot has no reachable
// leader, or a node while its disk is full (a retry may succeed; the
// outcome of a send is unknown).
func transient(err error) bool {
	return errors.Is(err, node.ErrTimeout) || errors.Is(err, node.ErrNotLeader) || errors.Is(err, node.ErrOverloaded) ||
		errors.Is(err, node.ErrDiskFull)
}

func (sw *seedWorld) cluster() bool { return len(sw.nodes) > 1 }

// upNodes are the nodes up now, in id order.
func (sw *seedWorld) upNodes() []*world.Node {
	var up []*world.Node
	for _, n := range sw.nodes {
		if n.Up() {
			up = append(up, n)
		}
	}
	return up
}

// api is the node the next API call goes to: a random up node (from the
// "api-node" stream), or nil if none is up.
func (sw *seedWorld) api() *world.Node {
	up := sw.upNodes()
	if len(up) == 0 {
		return nil
	}
	return up[sw.apiPick.IntN(len(up))]
}

// clientNode is the node a client dials: a random up node (from the
// "client-node" stream), any node if none is up (the dial fails and the
// client tries again later).
func (sw *seedWorld) clientNode() runtime.NodeID {
	up := sw.upNodes()
	if len(up) == 0 {
		return sw.nodes[sw.clientPick.IntN(len(sw.nodes))].ID()
	}
	return up[sw.clientPick.IntN(len(up))].ID()
}

// setupCall runs req on a random up node to completion, retrying
// cluster-transient errors while the cluster elects its leaders.
func (sw *seedWorld) setupCall(req node.Request) (any, error) {
	for range setupAttempts - 1 {
		// With every node down (a crash, a stop, a full disk's wait) the
		// call waits for one to come back.
		if n := sw.api(); n != nil {
			v, err := n.Call(req)
			if !transient(err) && !errors.Is(err, world.ErrNodeDown) {
				return v, err
			}
		}
		if err := sw.Sim.RunFor(retryDelay); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("%T: no node answered in %d attempts", req, setupAttempts)
}

// slotTerm names a leadership: a slot in a term.
type slotTerm struct {
	slot int
	term uint64
}

// sampleLeaders records which node leads which slot in which term, and
// fails if two nodes ever led one slot in one term.
func (sw *seedWorld) sampleLeaders(id runtime.NodeID, st node.StatsReply) {
	for i, slot := range st.LedSlots {
		k := slotTerm{slot, st.LedTerms[i]}
		if prev, ok := sw.leaders[k]; ok && prev != id {
			sw.fail("slot %d has two leaders in term %d: nodes %d and %d", slot, k.term, prev, id)
		}
		sw.leaders[k] = id
	}
}

// checkReplicas waits (at most convergeBound) until every slot's replicas
// applied the same index, then checks that they hold the same state.
func (sw *seedWorld) checkReplicas() {
	type replica struct {
		node runtime.NodeID
		d    node.SlotDigest
	}
	var bySlot map[int][]replica
	read := func() error {
		bySlot = map[int][]replica{}
		for _, n := range sw.nodes {
			v, err := n.Call(node.SlotDigests{})
			if err != nil {
				return fmt.Errorf("slot digests of node %d: %w", n.ID(), err)
			}
			for _, d := range v.([]node.SlotDigest) {
				bySlot[d.Slot] = append(bySlot[d.Slot], replica{n.ID(), d})
			}
		}
		return nil
	}
	converged := func() bool {
		targets := sw.tableTargets()
		for slot, reps := range bySlot {
			if len(reps) != targets[slot] {
				return false // replicas still moving
			}
			for _, r := range reps[1:] {
				if r.d.Applied != reps[0].d.Applied {
					return false
				}
			}
		}
		return true
	}
	deadline := sw.Now() + convergeBound
	for {
		if err := read(); err != nil {
			sw.fail("replicas: %v", err)
			return
		}
		if converged() || sw.Now() >= deadline {
			break
		}
		if err := sw.Sim.RunFor(100 * time.Millisecond); err != nil {
			sw.fail("replicas: %v", err)
			return
		}
	}
	targets := sw.tableTargets()
	for _, slot := range sortedKeys(bySlot) {
		reps := bySlot[slot]
		want := targets[slot]
		if len(reps) != want {
			sw.fail("slot %d has %d replicas, want %d", slot, len(reps), want)
		}
		for _, r := range reps[1:] {
			a := reps[0]
			switch {
			case a.d.Applied != r.d.Applied:
				sw.fail("slot %d did not converge within %v of the quiet phase: node %d applied %d, node %d applied %d",
					slot, convergeBound, a.node, a.d.Applied, r.node, r.d.Applied)
			case a.d.Digest != r.d.Digest:
				sw.fail("slot %d: nodes %d and %d applied %d with different state (digests %016x, %016x)",
					slot, a.node, r.node, a.d.Applied, a.d.Digest, r.d.Digest)
			}
		}
	}
	sw.res.converged = true
}

// tableTargets is how many replicas each group should have by the
// cluster table of the first up node: its targets for a slot, every
// member for the controller group.
func (sw *seedWorld) tableTargets() map[int]int {
	out := map[int]int{}
	for _, n := range sw.upNodes() {
		v, err := n.Call(node.ClusterMembers{})
		if err != nil {
			continue
		}
		t := v.(node.ClusterMembersReply)
		for s, r := range t.Slots {
			out[s] = len(r)
		}
		// Every member learns the controller log, a removed one too
		// until it is killed (then it is no longer in sw.nodes).
		for _, m := range t.Members {
			if slices.ContainsFunc(sw.nodes, func(n *world.Node) bool { return uint64(n.ID()) == m.ID }) {
				out[node.ControllerGroup]++
			}
		}
		return out
	}
	return out
}

func sortedKeys[V any](m map[int]V) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// linkDupReorder: the seeds draw links that duplicate and reorder
// messages between nodes (on by default; -dupreorder=false draws only
// loss and delay, to tell a failure's cause apart).
var linkDupReorder = flag.Bool("dupreorder", true, "TestSeeds: draw node-to-node links that duplicate and reorder messages")

// joined is the plan's hook for a node that joined: clients and API calls
// may go to it from now on.
func (sw *seedWorld) joined(n *world.Node) { sw.nodes = append(sw.nodes, n) }

// removed is the plan's hook for a member that was removed and killed
// (BeforeCrash ran): no client or call goes to it any more.
func (sw *seedWorld) removed(id runtime.NodeID) {
	sw.nodes = slices.DeleteFunc(sw.nodes, func(n *world.Node) bool { return n.ID() == id })
}

// beforeStop is the plan's hook for a graceful stop with hand-off: what
// the node was asked is lost as in a crash (its clients are told it shuts
// down, which the users take).
func (sw *seedWorld) beforeStop(id runtime.NodeID) { sw.beforeCrash(id) }

// clusterFaults are the fault classes a seed set with clusters must fire,
// besides the one-node ones.
func clusterFaults() []chaos.Class {
	out := []chaos.Class{
		chaos.PartitionBoth, chaos.PartitionOneWay, chaos.PartitionIsolate, chaos.PartitionLeader, chaos.PartitionController,
		chaos.LinkFaults, chaos.LinkLoss, chaos.LinkDelay, chaos.CrashCluster,
		chaos.MemberJoin, chaos.MemberRemove, chaos.StopGraceful,
	}
	if *linkDupReorder {
		out = append(out, chaos.LinkDup, chaos.LinkReorder)
	}
	return out
}

// partitions counts the partitions of a seed's counter.
func partitions(c *chaos.Counter) int {
	return c.Count(chaos.PartitionBoth) + c.Count(chaos.PartitionOneWay) + c.Count(chaos.PartitionIsolate) + c.Count(chaos.PartitionLeader) +
		c.Count(chaos.PartitionController)
}

// diskFullGrace is how long after a disk got room back a node may still
// answer a write as refused for a full disk: its retried commit finds the
// room within a second (node's diskProbeMaxDelay), and the answer travels.
const diskFullGrace = 3 * time.Second

// diskFullLately: some node's disk is full, or was within diskFullGrace.
func (sw *seedWorld) diskFullLately() bool {
	for _, n := range sw.nodes {
		if sw.DiskFullLately(n.ID(), diskFullGrace) {
			return true
		}
	}
	return false
}
