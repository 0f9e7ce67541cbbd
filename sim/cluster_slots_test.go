package sim_test

import (
	"slices"
	"testing"

	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/sim/world"
)

// TestClusterSlotsShowsOneLeaderPerSlotAndEveryReplicasLog: every node of
// a 4-node cluster with 3 replicas answers ClusterSlots for every slot;
// all nodes agree on each slot's leader, that leader's own replica says
// "leader", and a replica's log and applied index are shown.
func TestClusterSlotsShowsOneLeaderPerSlotAndEveryReplicasLog(t *testing.T) {
	w := world.New(t, 21)
	nodes := w.AddCluster(4, clusterConfig(6))
	nodes[0].MustCall(node.ChannelUpsert{Channel: g1, Subscribers: []string{"alice", "bob"}})
	views := map[uint64]node.ClusterSlotsReply{}
	w.Until("every slot led and known on every node", func() bool {
		for _, n := range nodes {
			r := n.MustCall(node.ClusterSlots{}).(node.ClusterSlotsReply)
			views[uint64(n.ID())] = r
			for _, s := range r.Slots {
				if s.Leader == 0 {
					return false
				}
			}
		}
		return true
	})
	for id, r := range views {
		if len(r.Slots) != 6 || len(r.Members) != 4 || r.ReplicaCount != 3 {
			t.Fatalf("node %d: %d slots, members %v, replicas %d", id, len(r.Slots), r.Members, r.ReplicaCount)
		}
		for i, s := range r.Slots {
			lead := views[s.Leader].Slots[i]
			if s.Leader != views[uint64(nodes[0].ID())].Slots[i].Leader {
				t.Fatalf("slot %d: node %d says leader %d, node 1 says %d", s.Slot, id, s.Leader, views[1].Slots[i].Leader)
			}
			if len(s.Replicas) != 3 || s.Replica != slices.Contains(s.Replicas, id) {
				t.Fatalf("node %d slot %d: replicas %v, replica here %v", id, s.Slot, s.Replicas, s.Replica)
			}
			if lead.Role != "leader" || lead.Applied == 0 || lead.LogEntries == 0 || lead.Term == 0 {
				t.Fatalf("slot %d's leader %d shows %+v", s.Slot, s.Leader, lead)
			}
			if !s.Replica && (s.Role != "" || s.Applied != 0) {
				t.Fatalf("node %d holds no replica of slot %d yet shows %+v", id, s.Slot, s)
			}
		}
	}
}
