package sim_test

import (
	"testing"

	"github.com/jindou-im/jindou/node"
)

// TestAJoinedNodeRestartedWithoutJoinStaysTheMemberItIs: node 4 joins a
// 3-node cluster, is stopped, and starts again with neither Join nor
// Members (the binary's node with only cluster_addr and cluster_token).
// Its data dir says it joined: it starts from the table it holds, takes no
// slot it never held for a fresh one of its own, keeps its replicas and
// reads every acknowledged message.
func TestAJoinedNodeRestartedWithoutJoinStaysTheMemberItIs(t *testing.T) {
	w, cfg, nodes, room := roomCluster(t, 31, 3)
	joined := w.AddNode(4, joinConfig(cfg, 2))
	w.Until("the table settles with node 4 holding replicas", func() bool {
		return tableSettled(t, w) && replicasOn(t, w)[4] > 0
	})
	acked := sendMany(t, nodes[0], room, "alice", 10, "before")
	held := replicasOn(t, w)[4]
	joined.Stop()
	joined.Config.Join, joined.Config.Members = false, nil
	if err := joined.Start(); err != nil {
		t.Fatalf("node 4 restarted without Join: %v", err)
	}
	// At once, before any move could tidy up: a node that computed an
	// initial placement would have started fresh groups of its own.
	if got := replicasOn(t, w)[4]; got != held {
		t.Fatalf("node 4 holds %d replicas as it restarts, %d before: it took slots it never held for fresh ones", got, held)
	}
	acked = append(acked, sendMany(t, joined, room, "bob", 5, "after")...)
	w.Until("the table settles again, every slot on exactly its targets", func() bool { return tableSettled(t, w) })
	if got := replicasOn(t, w)[4]; got != held {
		t.Fatalf("node 4 holds %d replicas after its restart, %d before", got, held)
	}
	tb := joined.MustCall(node.ClusterMembers{}).(node.ClusterMembersReply)
	if len(tb.Members) != 4 {
		t.Fatalf("node 4's table after its restart: %+v", tb.Members)
	}
	if msgs := syncAll(t, joined, "alice", room); len(msgs) != len(acked) {
		t.Fatalf("node 4 reads %d messages of room, %d were acknowledged", len(msgs), len(acked))
	}
	w.Until("replicas agree", func() bool { return replicasConverged(t, w) })
	assertReplicasAgree(t, w)
}
