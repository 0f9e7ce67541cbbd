package chaos

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
)

// The faults of a cluster: partitions of the links between nodes, faulty
// links, and the power loss of every node at once.

// The fault classes of a cluster.
const (
	PartitionOneWay  Class = "partition-one-way" // one direction of a link blocked
	PartitionIsolate Class = "partition-isolate" // every link of one node blocked
	PartitionLeader  Class = "partition-leader"  // the leader of a slot isolated
	// PartitionController isolates the controller group's leader.
	PartitionController Class = "partition-controller"
	LinkLoss            Class = "link-loss"
	LinkDup             Class = "link-dup"
	LinkDelay           Class = "link-delay"
	LinkReorder         Class = "link-reorder"
	CrashCluster        Class = "crash-cluster" // every node loses power at once
	MemberJoin          Class = "member-join"   // a new node joins during traffic
	MemberRemove        Class = "member-remove" // a member is removed during traffic
	StopGraceful        Class = "stop-graceful" // a node hands its leaderships off and stops
)

// ControllerSlot is the group id a PartLeader partition names to isolate
// the controller group's leader (node.ControllerGroup, which the nodes
// report among the groups they lead).
const ControllerSlot = 1<<16 - 1

// PartitionKind says which links a Partition blocks.
type PartitionKind string

// The partitions.
const (
	PartBoth    PartitionKind = "both"    // A and B cannot reach each other
	PartOneWay  PartitionKind = "oneway"  // what A sends to B is lost
	PartIsolate PartitionKind = "isolate" // A reaches no one, no one reaches A
	PartLeader  PartitionKind = "leader"  // the node leading Slot at At is isolated
)

// Partition blocks links from At for For, then unblocks them.
type Partition struct {
	Kind PartitionKind
	A, B NodeID
	// Slot is the slot whose leader a PartLeader partition isolates, as
	// the world finds it at At.
	Slot    int
	At, For time.Duration
}

func (p Partition) String() string {
	return fmt.Sprintf("partition kind=%s a=%d b=%d slot=%d at=%v for=%v", p.Kind, p.A, p.B, p.Slot, p.At, p.For)
}

func (p Partition) Class() Class {
	switch p.Kind {
	case PartOneWay:
		return PartitionOneWay
	case PartIsolate:
		return PartitionIsolate
	case PartLeader:
		if p.Slot == ControllerSlot {
			return PartitionController
		}
		return PartitionLeader
	}
	return PartitionBoth
}

// Link makes links faulty from At for For: the link From → To and the one
// back (From 0: every link), losing LossPct and duplicating DupPct
// percent of messages, delaying each up to MaxLatency, reordering them if
// Reorder. Then the links are reliable again.
type Link struct {
	From, To        NodeID
	At, For         time.Duration
	LossPct, DupPct int
	MaxLatency      time.Duration
	Reorder         bool
}

func (l Link) String() string {
	return fmt.Sprintf("link from=%d to=%d at=%v for=%v loss=%d%% dup=%d%% latency=%v reorder=%v",
		l.From, l.To, l.At, l.For, l.LossPct, l.DupPct, l.MaxLatency, l.Reorder)
}

func (Link) Class() Class { return LinkFaults }

// Classes are the link faults this one makes: LinkFaults and one class
// per kind of fault it has.
func (l Link) Classes() []Class {
	out := []Class{LinkFaults}
	if l.LossPct > 0 {
		out = append(out, LinkLoss)
	}
	if l.DupPct > 0 {
		out = append(out, LinkDup)
	}
	if l.MaxLatency > 0 {
		out = append(out, LinkDelay)
	}
	if l.Reorder {
		out = append(out, LinkReorder)
	}
	return out
}

// PowerLoss crashes every node that is up at At, losing all their unsynced
// writes, and starts them again Down later.
type PowerLoss struct {
	At, Down time.Duration
}

func (p PowerLoss) String() string { return fmt.Sprintf("power at=%v down=%v", p.At, p.Down) }

func (PowerLoss) Class() Class { return CrashCluster }

// Join starts a new node at At that joins the running cluster through one
// of its members and receives its share of the slots.
type Join struct{ At time.Duration }

func (j Join) String() string { return fmt.Sprintf("join at=%v", j.At) }

func (Join) Class() Class { return MemberJoin }

// Remove asks at At for the removal of member Node; once its replicas have
// moved away, the node is stopped for good.
type Remove struct {
	Node NodeID
	At   time.Duration
}

func (r Remove) String() string { return fmt.Sprintf("remove node=%d at=%v", r.Node, r.At) }

func (Remove) Class() Class { return MemberRemove }

// Stop stops Node gracefully at At (its leaderships handed off first) and
// starts it again Down later.
type Stop struct {
	Node     NodeID
	At, Down time.Duration
}

func (s Stop) String() string { return fmt.Sprintf("stop node=%d at=%v down=%v", s.Node, s.At, s.Down) }

func (Stop) Class() Class { return StopGraceful }

// parseCluster reads the cluster's entries; ok is false for another kind.
func parseCluster(kind string, kv map[string]string, dur func(string) time.Duration, num func(k, suffix string) int64) (f Fault, ok bool, err error) {
	switch kind {
	case "partition":
		k := PartitionKind(kv["kind"])
		switch k {
		case PartBoth, PartOneWay, PartIsolate, PartLeader:
		default:
			return nil, true, fmt.Errorf("chaos: partition kind %q (want both, oneway, isolate or leader)", k)
		}
		return Partition{Kind: k, A: NodeID(num("a", "")), B: NodeID(num("b", "")), Slot: int(num("slot", "")), At: dur("at"), For: dur("for")}, true, nil
	case "link":
		reorder, e := strconv.ParseBool(kv["reorder"])
		if e != nil {
			return nil, true, fmt.Errorf("chaos: link: reorder: %v", e)
		}
		return Link{From: NodeID(num("from", "")), To: NodeID(num("to", "")), At: dur("at"), For: dur("for"),
			LossPct: int(num("loss", "%")), DupPct: int(num("dup", "%")), MaxLatency: dur("latency"), Reorder: reorder}, true, nil
	case "power":
		return PowerLoss{At: dur("at"), Down: dur("down")}, true, nil
	case "join":
		return Join{At: dur("at")}, true, nil
	case "remove":
		return Remove{Node: NodeID(num("node", "")), At: dur("at")}, true, nil
	case "stop":
		return Stop{Node: NodeID(num("node", "")), At: dur("at"), Down: dur("down")}, true, nil
	}
	return nil, false, nil
}

// maxClusterJumpMs bounds a cluster node's wall clock jump either way:
// the nodes' clocks differ by up to twice it, and what a cluster compares
// across nodes (the dedupe window's timestamps, written by whichever node
// led) must outlast that.
const maxClusterJumpMs = 2_000

// ClusterConfig bounds what DrawCluster draws.
type ClusterConfig struct {
	Nodes    int           // the cluster's nodes are 1..Nodes
	Slots    int           // the slots a leader partition picks from
	Duration time.Duration // faults start within it
	MaxCrash int           // crashes of single nodes, at most
	// NoDupReorder draws faulty links that lose and delay messages but
	// neither duplicate nor reorder them.
	NoDupReorder bool
}

// DrawCluster draws the faults of a run of a cluster from r: each node's
// disk and clock, the client connections, crashes of any node, at times a
// power loss of the whole cluster, and (with more than one node)
// partitions of every kind and faulty links, each for a while.
func DrawCluster(r *rand.Rand, cfg ClusterConfig) Plan {
	var p Plan
	for id := 1; id <= cfg.Nodes; id++ {
		node := NodeID(id)
		p = append(p,
			Disk{Node: node, MaxLatency: time.Duration(200+r.IntN(5000)) * time.Microsecond, ErrorPct: r.IntN(3)},
			Clock{Node: node, At: at(r, cfg), Jump: time.Duration(r.IntN(2*maxClusterJumpMs+1)-maxClusterJumpMs) * time.Millisecond, DriftPPM: int64(r.IntN(2001) - 1000)})
	}
	p = append(p, Conns{MaxLatency: time.Duration(200+r.IntN(6000)) * time.Microsecond, Fragment: r.IntN(2) == 0})
	for range r.IntN(cfg.MaxCrash + 1) {
		p = append(p, Crash{Node: NodeID(1 + r.IntN(cfg.Nodes)), At: at(r, cfg), Down: time.Duration(10+r.IntN(2000)) * time.Millisecond,
			KeepPct: []int{0, 100, 1 + r.IntN(99)}[r.IntN(3)]})
	}
	if r.IntN(4) == 0 {
		p = append(p, PowerLoss{At: at(r, cfg), Down: time.Duration(10+r.IntN(1500)) * time.Millisecond})
	}
	p = append(p, drawDiskFull(r, cfg.Nodes, cfg.Duration)...) // fault.go
	if cfg.Nodes < 2 {
		return p
	}
	for range 1 + r.IntN(3) {
		a, b := twoNodes(r, cfg.Nodes)
		part := Partition{Kind: []PartitionKind{PartBoth, PartOneWay, PartIsolate, PartLeader}[r.IntN(4)], A: a, B: b,
			At: at(r, cfg), For: time.Duration(200+r.IntN(3000)) * time.Millisecond}
		switch part.Kind {
		case PartIsolate:
			part.B = 0
		case PartLeader:
			part.A, part.B, part.Slot = 0, 0, r.IntN(max(cfg.Slots, 1))
			if r.IntN(4) == 0 {
				part.Slot = ControllerSlot
			}
		}
		p = append(p, part)
	}
	p = append(p, drawLinks(r, cfg)...)
	return append(p, drawMembership(r, cfg)...)
}

// Membership changes: a cluster of at most maxJoinFrom nodes may grow by
// one, one of at least minRemoveFrom may lose a member.
const maxJoinFrom, minRemoveFrom = 4, 3

// drawMembership draws at times a join, a removal, and a graceful stop.
func drawMembership(r *rand.Rand, cfg ClusterConfig) Plan {
	var p Plan
	if cfg.Nodes <= maxJoinFrom && r.IntN(3) == 0 {
		p = append(p, Join{At: at(r, cfg)})
	}
	if cfg.Nodes >= minRemoveFrom && r.IntN(3) == 0 {
		p = append(p, Remove{Node: NodeID(1 + r.IntN(cfg.Nodes)), At: at(r, cfg)})
	}
	if r.IntN(3) == 0 {
		p = append(p, Stop{Node: NodeID(1 + r.IntN(cfg.Nodes)), At: at(r, cfg), Down: time.Duration(10+r.IntN(1500)) * time.Millisecond})
	}
	return p
}

// drawLinks draws up to two faulty links.
func drawLinks(r *rand.Rand, cfg ClusterConfig) Plan {
	var p Plan
	for range r.IntN(3) {
		l := Link{At: at(r, cfg), For: time.Duration(300+r.IntN(3000)) * time.Millisecond, LossPct: r.IntN(3) * r.IntN(15),
			DupPct: r.IntN(2) * r.IntN(10), MaxLatency: time.Duration(r.IntN(2)*(1+r.IntN(40))) * time.Millisecond, Reorder: r.IntN(2) == 0}
		if r.IntN(2) == 0 {
			l.From, l.To = twoNodes(r, cfg.Nodes)
		}
		if cfg.NoDupReorder {
			l.DupPct, l.Reorder = 0, false
		}
		p = append(p, l)
	}
	return p
}

func at(r *rand.Rand, cfg ClusterConfig) time.Duration {
	return time.Duration(r.Int64N(int64(cfg.Duration)))
}

// twoNodes draws two different nodes of 1..n (n >= 2).
func twoNodes(r *rand.Rand, n int) (NodeID, NodeID) {
	a := 1 + r.IntN(n)
	b := 1 + r.IntN(n-1)
	if b >= a {
		b++
	}
	return NodeID(a), NodeID(b)
}
