package sim_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/node/state"
	"github.com/jindou-im/jindou/sim/world"
)

// Behaviour of a cluster of simulated nodes: clients on any node reach any
// channel, the answer comes back to the node that holds the connection, and
// a slot survives the loss of its leader.

func clusterConfig(slots int) node.Config {
	return node.Config{Slots: slots, SlotLoops: 2, GatewayLoops: 2}
}

func connectTo(w *world.World, uid string, n *world.Node) *world.Client {
	return w.Connect(w.NewClient(world.ClientSpec{UID: uid, Device: "phone", Node: n.ID()}))
}

func TestClientsOnDifferentNodesChatInPersonAndGroup(t *testing.T) {
	for _, size := range []int{3, 5} {
		t.Run(fmt.Sprintf("nodes%d", size), func(t *testing.T) {
			w := world.New(t, 11)
			nodes := w.AddCluster(size, clusterConfig(8))
			nodes[0].MustCall(node.ChannelUpsert{Channel: g1, Subscribers: []string{"alice", "bob", "carol"}})
			alice := connectTo(w, "alice", nodes[0])
			bob := connectTo(w, "bob", nodes[1])
			carol := connectTo(w, "carol", nodes[size-1])
			aIn, bIn, cIn := watch(alice), watch(bob), watch(carol)

			alice.Send("bob", proto.ChannelPerson, "p1", []byte("hi bob"), 0, nil)
			bob.Send("g1", proto.ChannelGroup, "g1", []byte("hi all"), 0, nil)
			w.Until("acks and deliveries", func() bool {
				return len(aIn.acks) == 1 && len(bIn.acks) == 1 && len(bIn.recvs) == 1 && len(aIn.recvs) == 1 && len(cIn.recvs) == 1
			})
			for _, a := range []*proto.Sendack{aIn.acks[0], bIn.acks[0]} {
				if a.ReasonCode != proto.ReasonSuccess || a.MessageSeq != 1 {
					t.Fatalf("SENDACK %+v, want success at seq 1", a)
				}
			}
			if bIn.plain[0] != "hi bob" || bIn.recvs[0].ChannelID != "alice" {
				t.Fatalf("bob got %q in %q", bIn.plain[0], bIn.recvs[0].ChannelID)
			}
			if cIn.plain[0] != "hi all" || aIn.plain[0] != "hi all" {
				t.Fatalf("the group message reached carol as %q, alice as %q", cIn.plain[0], aIn.plain[0])
			}
			// Every node reads the same history, whichever leads the slot.
			for _, n := range nodes {
				if msgs := syncAll(t, n, "carol", g1); len(msgs) != 1 || string(msgs[0].Payload) != "hi all" {
					t.Fatalf("node %d reads %d messages of g1", n.ID(), len(msgs))
				}
				person := node.ChannelKey{Type: proto.ChannelPerson, ID: "bob"}
				if msgs := syncAll(t, n, "alice", person); len(msgs) != 1 {
					t.Fatalf("node %d reads %d messages of alice's chat with bob", n.ID(), len(msgs))
				}
			}
		})
	}
}

func TestAPIRoutesAnswerOnEveryNode(t *testing.T) {
	w := world.New(t, 12)
	nodes := w.AddCluster(5, clusterConfig(8))
	bob := connectTo(w, "bob", nodes[4])
	_ = bob
	for i, n := range nodes {
		ch := node.ChannelKey{Type: proto.ChannelGroup, ID: fmt.Sprintf("room%d", i)}
		n.MustCall(node.ChannelUpsert{Channel: ch, Subscribers: []string{"alice", "bob"}})
		n.MustCall(node.SendMessage{FromUID: "alice", Channel: ch, ClientMsgNo: "x", Payload: []byte("hello")})
	}
	for _, n := range nodes {
		online := n.MustCall(node.OnlineStatus{UIDs: []string{"bob"}}).([]node.OnlineConn)
		if len(online) != 1 || online[0].UID != "bob" {
			t.Fatalf("node %d: online status %+v, want bob's one connection (on node 5)", n.ID(), online)
		}
		convs := n.MustCall(node.ConversationSync{UID: "bob"}).([]node.Conversation)
		if len(convs) != len(nodes) {
			t.Fatalf("node %d: bob has %d conversations, want %d", n.ID(), len(convs), len(nodes))
		}
		for i := range nodes {
			ch := node.ChannelKey{Type: proto.ChannelGroup, ID: fmt.Sprintf("room%d", i)}
			if seq := n.MustCall(node.MaxSeq{Channel: ch}).(uint64); seq != 1 {
				t.Fatalf("node %d: max seq of %s is %d, want 1", n.ID(), ch, seq)
			}
		}
	}
}

func TestAckedSendsSurviveTheirSlotLeadersPartition(t *testing.T) {
	w := world.New(t, 13)
	nodes := w.AddCluster(3, clusterConfig(4))
	nodes[0].MustCall(node.ChannelUpsert{Channel: g1, Subscribers: []string{"alice", "bob"}})
	slot := state.SlotOfChannel(g1, 4)
	old := w.LeaderOf(slot)
	if old == nil {
		t.Fatal("no leader of g1's slot")
	}
	// The clients sit on the two other nodes.
	var others []*world.Node
	for _, n := range nodes {
		if n != old {
			others = append(others, n)
		}
	}
	alice, bob := connectTo(w, "alice", others[0]), connectTo(w, "bob", others[1])
	r := newRetrier(alice)
	bIn := watch(bob)
	for i := range 10 {
		r.send(fmt.Sprintf("m%d", i))
	}
	w.Until("the first ten acknowledged", func() bool { return len(r.seqs) == 10 })

	w.Sim.Isolate(old.ID())
	for i := 10; i < 20; i++ {
		r.send(fmt.Sprintf("m%d", i))
	}
	w.Until("the next ten acknowledged after the election", func() bool { return len(r.seqs) == 20 })
	if w.LeaderOf(slot) == old {
		t.Fatalf("node %d still says it leads slot %d while isolated", old.ID(), slot)
	}
	w.Sim.Heal()
	w.Until("bob has all 20", func() bool { return distinctSeqs(bIn.recvs) == 20 })
	msgs := syncAll(t, old, "bob", g1)
	if len(msgs) != 20 {
		t.Fatalf("the old leader's node reads %d messages after healing, want 20", len(msgs))
	}
	for cmn, seq := range r.seqs {
		if m := msgs[seq-1]; m.ClientMsgNo != cmn {
			t.Fatalf("acknowledged %s at seq %d, stored there: %s", cmn, seq, m.ClientMsgNo)
		}
	}
	w.RunFor(2 * time.Second)
	assertReplicasAgree(t, w)
}

// retrier sends to g1 and resends, with the same client_msg_no, every
// send answered with a failure, until each is acknowledged.
type retrier struct {
	c    *world.Client
	seqs map[string]uint64 // acknowledged client_msg_nos
}

func newRetrier(c *world.Client) *retrier {
	r := &retrier{c: c, seqs: map[string]uint64{}}
	c.OnSendack = func(s *world.Sent, a *proto.Sendack) {
		if a.ReasonCode == proto.ReasonSuccess {
			if prev, ok := r.seqs[s.ClientMsgNo]; ok && prev != a.MessageSeq {
				panic(fmt.Sprintf("%s acknowledged at seq %d and %d", s.ClientMsgNo, prev, a.MessageSeq))
			}
			r.seqs[s.ClientMsgNo] = a.MessageSeq
			return
		}
		r.send(s.ClientMsgNo)
	}
	return r
}

func (r *retrier) send(cmn string) { r.c.Send("g1", proto.ChannelGroup, cmn, []byte(cmn), 0, nil) }

func distinctSeqs(recvs []*proto.Recv) int {
	seen := map[uint64]bool{}
	for _, r := range recvs {
		seen[r.MessageSeq] = true
	}
	return len(seen)
}

// assertReplicasAgree checks that the replicas of every slot that applied
// the same index hold the same state, and that every slot's replicas
// reached the same applied index.
func assertReplicasAgree(t *testing.T, w *world.World) {
	t.Helper()
	type replica struct {
		node   uint64
		digest node.SlotDigest
	}
	bySlot := map[int][]replica{}
	for _, n := range w.Nodes() {
		if !n.Up() {
			continue
		}
		for _, d := range n.MustCall(node.SlotDigests{}).([]node.SlotDigest) {
			bySlot[d.Slot] = append(bySlot[d.Slot], replica{uint64(n.ID()), d})
		}
	}
	for slot, reps := range bySlot {
		for _, r := range reps[1:] {
			a, b := reps[0], r
			if a.digest.Applied != b.digest.Applied {
				t.Errorf("slot %d: node %d applied %d, node %d applied %d", slot, a.node, a.digest.Applied, b.node, b.digest.Applied)
			} else if a.digest.Digest != b.digest.Digest {
				t.Errorf("slot %d: nodes %d and %d applied %d with different state", slot, a.node, b.node, a.digest.Applied)
			}
		}
	}
}

func TestAFollowerBehindTheCompactedLogCatchesUpFromASnapshot(t *testing.T) {
	t.Run("whole", func(t *testing.T) { catchUpFromSnapshot(t, 0) })
	// A snapshot of 60 messages is several KiB: in 512-byte chunks.
	t.Run("chunked", func(t *testing.T) { catchUpFromSnapshot(t, 512) })
}

func catchUpFromSnapshot(t *testing.T, chunkBytes int) {
	w := world.New(t, 14)
	cfg := clusterConfig(2)
	cfg.CompactLogAfter = 8
	cfg.SnapshotChunkBytes = chunkBytes
	nodes := w.AddCluster(3, cfg)
	nodes[0].MustCall(node.ChannelUpsert{Channel: g1, Subscribers: []string{"alice", "bob"}})
	slot := state.SlotOfChannel(g1, 2)
	leader := w.LeaderOf(slot)
	var lagging *world.Node
	for _, n := range nodes {
		if n != leader {
			lagging = n
			break
		}
	}
	lagging.Crash(0)
	var client *world.Node
	for _, n := range nodes {
		if n != leader && n != lagging {
			client = n
		}
	}
	alice := connectTo(w, "alice", client)
	r := newRetrier(alice)
	for i := range 60 {
		r.send(fmt.Sprintf("m%d", i))
	}
	w.Until("60 acknowledged with a node down", func() bool { return len(r.seqs) == 60 })
	if err := lagging.Start(); err != nil {
		t.Fatal(err)
	}
	w.Until("the restarted node reads all 60", func() bool {
		d := digestOf(t, lagging, slot)
		return d.Applied > 0 && d.Applied == digestOf(t, leader, slot).Applied
	})
	st := leader.MustCall(node.Stats{}).(node.StatsReply)
	lst := lagging.MustCall(node.Stats{}).(node.StatsReply)
	if st.SnapshotsMade == 0 || lst.SnapshotsApplied == 0 {
		t.Fatalf("the follower caught up without a snapshot (made %d, applied %d): the test proves nothing", st.SnapshotsMade, lst.SnapshotsApplied)
	}
	if si := slotInfoOf(t, leader, slot); si.SnapshotsSent == 0 || si.SnapshotsSent > st.SnapshotsMade {
		t.Fatalf("slot %d's leader counts %d snapshots sent, the node %d", slot, si.SnapshotsSent, st.SnapshotsMade)
	}
	if chunked := st.SnapshotChunks > 1 && lst.SnapshotsGathered > 0; chunked != (chunkBytes > 0) {
		t.Fatalf("with chunks of %d bytes the snapshot went in %d chunks (%d gathered)", chunkBytes, st.SnapshotChunks, lst.SnapshotsGathered)
	}
	assertReplicasAgree(t, w)
	// The follower can lead: isolate the old leader, and read from the
	// caught-up node.
	// A read passed on to the old leader before the election is lost, and
	// times out: a caller tries again, as this one does.
	w.Sim.Isolate(leader.ID())
	var msgs []*node.Message
	w.Until("a read after the election", func() bool {
		var err error
		msgs, err = lagging.SyncAll("bob", g1)
		return err == nil
	})
	if len(msgs) != 60 {
		t.Fatalf("after the snapshot and a new election, %d messages, want 60", len(msgs))
	}
}

func digestOf(t *testing.T, n *world.Node, slot int) node.SlotDigest {
	t.Helper()
	for _, d := range n.MustCall(node.SlotDigests{}).([]node.SlotDigest) {
		if d.Slot == slot {
			return d
		}
	}
	return node.SlotDigest{}
}
