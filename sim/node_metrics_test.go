package sim_test

import (
	"testing"
	"time"

	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/node/state"
	"github.com/jindou-im/jindou/sim/world"
)

// The figures /metrics shows an operator (http/metrics_delivery.go,
// http/metrics_slots.go), as the core counts them on the runtime's clock.

func TestDeliveryStatsCountFirstRecvsTheirAcksAndTheLatencyFromTheFirstWrite(t *testing.T) {
	w := world.New(t, 31)
	n := w.AddNode(1, node.Config{ResendInterval: time.Second, ResendMax: 5})
	a, b := w.Connected("a", "1"), w.Connected("b", "1")
	b.AutoAck = false
	bIn := watch(b)
	a.Send("b", proto.ChannelPerson, "m", []byte("x"), 0, nil)
	w.Until("the first RECV", func() bool { return len(bIn.recvs) == 1 })
	w.RunFor(2500 * time.Millisecond) // two resends, unacknowledged
	b.AutoAck = true                  // the third resend, at about 3 s, is acknowledged
	w.Until("the acknowledged resend", func() bool { return len(bIn.recvs) == 4 })
	w.RunFor(100 * time.Millisecond)
	st := n.MustCall(node.Stats{}).(node.StatsReply)
	if st.RecvsSent != 1 || st.Resends != 3 || st.RecvAcks != 1 {
		t.Fatalf("RECVs sent %d, resent %d, acknowledged %d; want 1, 3, 1", st.RecvsSent, st.Resends, st.RecvAcks)
	}
	h := st.RecvAckLatency
	if h.Count() != 1 || h.SumSeconds < 2.9 || h.SumSeconds > 3.5 {
		t.Fatalf("RECVACK latency: %d observed, %.3f s in all; want one of about 3 s (from the first write)", h.Count(), h.SumSeconds)
	}
	if st.RetryQueue != 0 {
		t.Fatalf("%d RECVs still await their RECVACK", st.RetryQueue)
	}
}

func TestOfflineRecipientsAreThoseWithNoConnectionAnywhereInTheCluster(t *testing.T) {
	w := world.New(t, 32)
	nodes := w.AddCluster(3, clusterConfig(4))
	nodes[0].MustCall(node.ChannelUpsert{Channel: g1, Subscribers: []string{"alice", "bob", "carol", "dave"}})
	alice, bob := connectTo(w, "alice", nodes[0]), connectTo(w, "bob", nodes[1])
	aIn, bIn := watch(alice), watch(bob)
	w.RunFor(node.PresenceBound) // every slot loop knows both logins
	for _, no := range []string{"1", "2"} {
		alice.Send("g1", proto.ChannelGroup, no, []byte("hi"), 0, nil)
	}
	w.Until("acks and deliveries", func() bool { return len(aIn.acks) == 2 && len(bIn.recvs) == 2 })
	var offline int64
	for _, n := range nodes {
		offline += n.MustCall(node.Stats{}).(node.StatsReply).OfflineRecipients
	}
	if offline != 4 {
		t.Fatalf("offline recipients %d, want 4 (carol and dave, for each of 2 messages)", offline)
	}
}

// A node alone counts offline recipients whether or not the webhooks
// track who is online (msg.offline, user.onlinestatus).
func TestANodeAloneCountsOfflineRecipientsWithOrWithoutWebhooks(t *testing.T) {
	for _, hooks := range []bool{true, false} {
		w := world.New(t, 35)
		cfg := node.Config{Slots: 4}
		if hooks {
			w.AddReceiver()
			cfg = webhookConfig()
		}
		n := w.AddNode(1, cfg)
		awaitReady(t, n)
		n.MustCall(node.ChannelUpsert{Channel: g1, Subscribers: []string{"a", "b", "c"}})
		a := w.Connected("a", "1")
		aIn := watch(a)
		w.RunFor(100 * time.Millisecond) // the login reaches the slot loops
		a.Send("g1", proto.ChannelGroup, "1", []byte("x"), 0, nil)
		w.Until("ack", func() bool { return len(aIn.acks) == 1 })
		want := int64(2) // b and c
		if got := n.MustCall(node.Stats{}).(node.StatsReply).OfflineRecipients; got != want {
			t.Fatalf("webhooks on: %v: %d offline recipients, want %d", hooks, got, want)
		}
	}
}

func TestPerSlotFiguresAddUpToTheNodesAndTimeEveryApply(t *testing.T) {
	w := world.New(t, 33)
	n := w.AddNode(1, node.Config{Slots: 4})
	awaitReady(t, n)
	a := w.Connected("a", "1")
	aIn := watch(a)
	peers := []string{"b", "c", "d", "e", "f", "g"}
	for _, p := range peers {
		a.Send(p, proto.ChannelPerson, p, []byte("x"), 0, nil)
	}
	w.Until("acks", func() bool { return len(aIn.acks) == len(peers) })
	st := n.MustCall(node.Stats{}).(node.StatsReply)
	cs := n.MustCall(node.ClusterSlots{}).(node.ClusterSlotsReply)
	var proposals, applied, leaderChanges int64
	perSlot := map[int]int64{}
	for _, p := range peers {
		perSlot[state.SlotOfChannel(node.ChannelKey{Type: proto.ChannelPerson, ID: state.PersonChannelID("a", p)}, 4)]++
	}
	for _, s := range cs.Slots {
		proposals += s.Proposals
		applied += s.CommitLatency.Count()
		leaderChanges += s.LeaderChanges
		if s.LeaderChanges != 1 {
			t.Errorf("slot %d became led here %d times, want once", s.Slot, s.LeaderChanges)
		}
		if s.Proposals < perSlot[s.Slot] {
			t.Errorf("slot %d: %d proposals, fewer than the %d sends to it", s.Slot, s.Proposals, perSlot[s.Slot])
		}
	}
	// The node's leader changes count the controller group's too.
	if proposals != st.Proposals || leaderChanges != int64(len(cs.Slots)) || st.LeaderChanges != leaderChanges+1 {
		t.Fatalf("the slots' proposals %d and leader changes %d, the node's %d and %d", proposals, leaderChanges, st.Proposals, st.LeaderChanges)
	}
	if applied != proposals {
		t.Fatalf("%d applies timed of %d proposals made and applied here", applied, proposals)
	}
}

// slotInfoOf is n's view of slot (node.ClusterSlots).
func slotInfoOf(t *testing.T, n *world.Node, slot int) node.SlotInfo {
	t.Helper()
	for _, s := range n.MustCall(node.ClusterSlots{}).(node.ClusterSlotsReply).Slots {
		if s.Slot == slot {
			return s
		}
	}
	t.Fatalf("node %d does not list slot %d", n.ID(), slot)
	return node.SlotInfo{}
}
