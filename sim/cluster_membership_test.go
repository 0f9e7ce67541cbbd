package sim_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jindou-im/jindou/chaos"
	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/runtime"
	"github.com/jindou-im/jindou/sim/world"
)

// Membership: a node joins a running cluster and receives its share of
// the slots; a member is removed and its replicas move first; neither
// loses an acknowledged message.

// joinConfig is a new node's configuration: it knows one member.
func joinConfig(cfg node.Config, seed uint64) node.Config {
	cfg.Members, cfg.Join = []uint64{seed}, true
	return cfg
}

// replicasOn counts, per node, the data slots whose replicas it holds,
// from each node's own digests.
func replicasOn(t *testing.T, w *world.World) map[runtime.NodeID]int {
	t.Helper()
	out := map[runtime.NodeID]int{}
	for _, n := range w.Nodes() {
		if !n.Up() {
			continue
		}
		for _, d := range n.MustCall(node.SlotDigests{}).([]node.SlotDigest) {
			if d.Slot != node.ControllerGroup {
				out[n.ID()]++
			}
		}
	}
	return out
}

// tableSettled reports whether every up node routes from the same table
// version and every slot has exactly its target replicas.
func tableSettled(t *testing.T, w *world.World) bool {
	t.Helper()
	var version uint64
	var want map[int][]uint64
	for i, n := range w.Nodes() {
		if !n.Up() {
			continue
		}
		tb := n.MustCall(node.ClusterMembers{}).(node.ClusterMembersReply)
		if !tb.Known || (i > 0 && tb.Version != version) {
			return false
		}
		version = tb.Version
		want = map[int][]uint64{}
		for s, r := range tb.Slots {
			want[s] = slices.Sorted(slices.Values(r))
		}
	}
	have := map[int][]uint64{}
	for _, n := range w.Nodes() {
		if !n.Up() {
			continue
		}
		for _, d := range n.MustCall(node.SlotDigests{}).([]node.SlotDigest) {
			if d.Slot != node.ControllerGroup {
				have[d.Slot] = append(have[d.Slot], uint64(n.ID()))
			}
		}
	}
	for s, r := range want {
		if !slices.Equal(slices.Sorted(slices.Values(have[s])), r) {
			return false
		}
	}
	return true
}

// sendMany sends k messages with client_msg_nos (batch-from-i) to room
// through n and returns the acknowledged seqs.
func sendMany(t *testing.T, n *world.Node, room node.ChannelKey, from string, k int, batch string) []uint64 {
	t.Helper()
	var seqs []uint64
	for i := range k {
		v, err := n.Call(node.SendMessage{FromUID: from, Channel: room, ClientMsgNo: fmt.Sprintf("%s-%s-%d", batch, from, i), Payload: []byte("m")})
		if err != nil {
			continue
		}
		if r := v.(node.SendReply); r.MessageSeq > 0 {
			seqs = append(seqs, r.MessageSeq)
		}
	}
	return seqs
}

// roomCluster is a cluster of size nodes (8 slots) with a group room of
// alice and bob.
func roomCluster(t *testing.T, seed uint64, size int) (*world.World, node.Config, []*world.Node, node.ChannelKey) {
	w := world.New(t, seed)
	cfg := clusterConfig(8)
	nodes := w.AddCluster(size, cfg)
	room := node.ChannelKey{Type: proto.ChannelGroup, ID: "room"}
	nodes[0].MustCall(node.ChannelUpsert{Channel: room, Subscribers: []string{"alice", "bob"}})
	return w, cfg, nodes, room
}

func TestAJoiningNodeReceivesItsShareOfSlotsWithoutLoss(t *testing.T) {
	w, cfg, nodes, room := roomCluster(t, 21, 3)
	before := sendMany(t, nodes[1], room, "alice", 20, "before")

	joined := w.AddNode(4, joinConfig(cfg, 2))
	during := sendMany(t, nodes[2], room, "bob", 20, "during")
	w.Until("the table settles with node 4 holding replicas", func() bool {
		return tableSettled(t, w) && replicasOn(t, w)[4] > 0
	})
	load := replicasOn(t, w)
	// 8 slots × 3 replicas over 4 nodes: 6 each.
	for _, k := range load {
		if k != 6 {
			t.Fatalf("replicas per node %v, want 6 each", load)
		}
	}
	after := sendMany(t, joined, room, "alice", 5, "after")
	msgs := syncAll(t, joined, "alice", room)
	if want := len(before) + len(during) + len(after); len(msgs) != want {
		t.Fatalf("node 4 reads %d messages of room, %d were acknowledged", len(msgs), want)
	}
	st := joined.MustCall(node.Stats{}).(node.StatsReply)
	if st.SnapshotsApplied == 0 || st.ReplicasAdded == 0 {
		t.Fatalf("node 4 applied %d snapshots for %d replicas", st.SnapshotsApplied, st.ReplicasAdded)
	}
	w.Until("replicas agree", func() bool { return replicasConverged(t, w) })
	assertReplicasAgree(t, w)
}

func TestARemovedMembersReplicasMoveBeforeItGoes(t *testing.T) {
	w, _, nodes, room := roomCluster(t, 22, 4)
	before := sendMany(t, nodes[3], room, "alice", 20, "before")

	// Node 1 votes in the controller and leads slots at first.
	nodes[2].MustCall(node.RemoveMember{ID: 1})
	if _, err := nodes[2].Call(node.RemoveMember{ID: 1}); err == nil {
		t.Fatal("a second removal of node 1 was taken")
	}
	during := sendMany(t, nodes[1], room, "bob", 20, "during")
	w.Until("node 1 holds no replica and the table settled", func() bool {
		return tableSettled(t, w) && replicasOn(t, w)[1] == 0
	})
	// Node 1 led slots and the controller: it handed them off first.
	if st := nodes[0].MustCall(node.Stats{}).(node.StatsReply); st.Transfers == 0 || st.LeaderSlots != 0 || st.ControllerLeader {
		t.Fatalf("node 1 handed off %d leaderships and still leads %d slots (controller: %v)", st.Transfers, st.LeaderSlots, st.ControllerLeader)
	}
	nodes[0].Stop()
	after := sendMany(t, nodes[2], room, "alice", 5, "after")
	for _, n := range nodes[1:] {
		msgs := syncAll(t, n, "alice", room)
		if want := len(before) + len(during) + len(after); len(msgs) != want {
			t.Fatalf("node %d reads %d messages of room, %d were acknowledged", n.ID(), len(msgs), want)
		}
	}
	load := replicasOn(t, w)
	for _, n := range nodes[1:] {
		if load[n.ID()] != 8 { // 8 slots × 3 replicas over 3 nodes
			t.Fatalf("replicas per node %v, want 8 on each of nodes 2–4", load)
		}
	}
	w.Until("replicas agree", func() bool { return replicasConverged(t, w) })
	assertReplicasAgree(t, w)
}

func TestChaosNamesTheControllerGroupAsTheNodesDo(t *testing.T) {
	if chaos.ControllerSlot != node.ControllerGroup {
		t.Fatalf("chaos.ControllerSlot %d, node.ControllerGroup %d", chaos.ControllerSlot, node.ControllerGroup)
	}
}

func TestRemovingTheLastMemberIsRefused(t *testing.T) {
	w := world.New(t, 23)
	n := w.AddNode(1, clusterConfig(4))
	awaitReady(t, n)
	_, err := n.Call(node.RemoveMember{ID: 1})
	if bad, ok := err.(*node.BadRequest); !ok || bad.Field != "id" {
		t.Fatalf("removing the only member: %v, want a bad id", err)
	}
	if _, err := n.Call(node.RemoveMember{ID: 9}); err == nil {
		t.Fatal("removing a node that is no member was taken")
	}
}

// replicasConverged reports whether every slot's replicas applied the
// same index.
func replicasConverged(t *testing.T, w *world.World) bool {
	t.Helper()
	applied := map[int][]uint64{}
	for _, n := range w.Nodes() {
		if !n.Up() {
			continue
		}
		for _, d := range n.MustCall(node.SlotDigests{}).([]node.SlotDigest) {
			applied[d.Slot] = append(applied[d.Slot], d.Applied)
		}
	}
	for _, a := range applied {
		if slices.Min(a) != slices.Max(a) {
			return false
		}
	}
	return true
}

func TestAGracefulStopHandsItsLeadershipsOffFirst(t *testing.T) {
	w := world.New(t, 24)
	cfg := clusterConfig(8)
	nodes := w.AddCluster(3, cfg)
	awaitReady(t, nodes[0])
	w.Until("node 1 leads slots", func() bool {
		return nodes[0].MustCall(node.Stats{}).(node.StatsReply).LeaderSlots > 0
	})
	r := nodes[0].MustCall(node.HandOff{}).(node.HandOffReply)
	st := nodes[0].MustCall(node.Stats{}).(node.StatsReply)
	if r.StillLed != 0 || r.Transfers == 0 || st.LeaderSlots != 0 || st.ControllerLeader {
		t.Fatalf("hand-off %+v; node 1 still leads %d slots (controller: %v)", r, st.LeaderSlots, st.ControllerLeader)
	}
	nodes[0].Stop()
	// Every slot has a leader at once: a send to each is acknowledged
	// well within an election timeout.
	start := w.Now()
	for i := range 16 {
		room := node.ChannelKey{Type: proto.ChannelGroup, ID: fmt.Sprintf("room%d", i)}
		nodes[1].MustCall(node.ChannelUpsert{Channel: room, Subscribers: []string{"alice"}})
		if seqs := sendMany(t, nodes[2], room, "alice", 1, "after-stop"); len(seqs) != 1 {
			t.Fatalf("the send to %s after the stop was not acknowledged", room.ID)
		}
	}
	if took, limit := w.Now()-start, time.Duration(cfg.ElectionTicks+10)*100*time.Millisecond; took > limit {
		t.Fatalf("32 requests after the stop took %v of virtual time, more than %v", took, limit)
	}
}
