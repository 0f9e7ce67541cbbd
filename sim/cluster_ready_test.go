package sim_test

import (
	"testing"

	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/sim/world"
)

// TestANodeIsReadyOnlyOnceItKnowsTheLeaderOfEverySlot: in a 4-node
// cluster with 3 replicas a node holds only some slots; it is ready only
// once every other slot's leader was announced to it, so at the moment it
// first says ready it names, for every slot, the node that leads it. A
// restarted node learns its own replicas' leaders from their first
// heartbeat, the others' from the next announcement (up to a second
// later): that is where a readiness without the check would say ready
// too early.
func TestANodeIsReadyOnlyOnceItKnowsTheLeaderOfEverySlot(t *testing.T) {
	w := world.New(t, 23)
	nodes := w.AddCluster(4, clusterConfig(8))
	for _, n := range nodes {
		if err := n.AwaitReady(); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range nodes {
		n.Crash(100)
		if err := n.Start(); err != nil {
			t.Fatal(err)
		}
		if err := n.AwaitReady(); err != nil {
			t.Fatal(err)
		}
		st := n.MustCall(node.Stats{}).(node.StatsReply)
		if st.UnknownLeaders != 0 || st.Slots >= 8 {
			t.Fatalf("node %d ready with %d slots' leaders unknown, holding %d of 8 slots", n.ID(), st.UnknownLeaders, st.Slots)
		}
		believed := n.MustCall(node.ClusterSlots{}).(node.ClusterSlotsReply)
		for _, s := range believed.Slots {
			if s.Replica {
				continue
			}
			lead := nodes[s.Leader-1].MustCall(node.ClusterSlots{}).(node.ClusterSlotsReply).Slots[s.Slot]
			if s.Leader == 0 || lead.Role != "leader" {
				t.Fatalf("node %d, ready, believes node %d leads slot %d, which says it is %q", n.ID(), s.Leader, s.Slot, lead.Role)
			}
		}
	}
}
