package node

import (
	"slices"

	"github.com/jindou-im/jindou/runtime"
)

// Placement: which members replicate which slot. The replicas of slot s are
// ReplicaCount consecutive members, starting at member s mod N of the
// sorted member list, so that every member holds the same number of
// replicas (±1) and is the first replica — the one that campaigns first on
// a fresh cluster, and so usually the leader — of the same number of slots.
// A configuration change moves replicas through raft in a later step; the
// placement of a fresh cluster is a pure function of the configuration,
// the same on every node.

// members are the cluster's node ids, sorted; this node alone if none are
// configured.
func (n *Node) members() []runtime.NodeID {
	if len(n.cfg.Members) == 0 {
		return []runtime.NodeID{n.env.Node()}
	}
	out := make([]runtime.NodeID, len(n.cfg.Members))
	for i, m := range n.cfg.Members {
		out[i] = runtime.NodeID(m)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// placement is the replicas of slot id, first replica first.
func placement(members []runtime.NodeID, replicas, id int) []uint64 {
	r := min(replicas, len(members))
	out := make([]uint64, r)
	for k := range r {
		out[k] = uint64(members[(id+k)%len(members)])
	}
	return out
}

// replicas are the voters of slot id.
func (n *Node) replicas(id int) []uint64 { return n.placed[id] }

// replicates reports whether this node holds a replica of slot id.
func (n *Node) replicates(id int) bool {
	return slices.Contains(n.replicas(id), uint64(n.env.Node()))
}

// firstReplica is the member that campaigns for slot id on a fresh start.
func (n *Node) firstReplica(id int) runtime.NodeID { return runtime.NodeID(n.replicas(id)[0]) }
