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
// The placement of a fresh cluster is a pure function of the
// configuration, the same on every node; the controller's table moves
// replicas from there (cluster.go, membership.go).

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

// firstReplica is the first of slot id's target replicas in the table,
// or 0 while the table is not known.
func (n *Node) firstReplica(id int) runtime.NodeID {
	if t := n.currentView().targets(id); len(t) > 0 {
		return runtime.NodeID(t[0])
	}
	return 0
}
