package sim_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/node/state"
	"github.com/jindou-im/jindou/sim/world"
)

// Presence and targeted delivery in a cluster: the leader of a message's
// slot sends one delivery per node that holds recipients, none to the
// others; presence lost in a partition is rebuilt once it heals; a
// restarted node's old presence is dropped.

// deliveryCounts sums every up node's delivery counters.
func deliveryCounts(t *testing.T, w *world.World) (sent, skipped int64) {
	t.Helper()
	for _, n := range w.Nodes() {
		if !n.Up() {
			continue
		}
		st := n.MustCall(node.Stats{}).(node.StatsReply)
		sent, skipped = sent+st.DeliveriesSent, skipped+st.DeliveriesSkipped
	}
	return sent, skipped
}

// leaderAndOthers is the leader of g1's slot and the other nodes.
func leaderAndOthers(t *testing.T, w *world.World, nodes []*world.Node, slots int) (*world.Node, []*world.Node) {
	t.Helper()
	var lead *world.Node
	w.Until("every slot has a leader", func() bool {
		for slot := range slots {
			if w.LeaderOf(slot) == nil {
				return false
			}
		}
		lead = w.LeaderOf(state.SlotOfChannel(g1, slots))
		return true
	})
	var others []*world.Node
	for _, n := range nodes {
		if n != lead {
			others = append(others, n)
		}
	}
	return lead, others
}

func TestADeliveryCostsOnePeerMessagePerNodeHoldingRecipientsNotPerRecipient(t *testing.T) {
	w := world.New(t, 21)
	nodes := w.AddCluster(3, clusterConfig(4))
	members := []string{"alice", "bob", "carol", "dave", "erin"}
	nodes[0].MustCall(node.ChannelUpsert{Channel: g1, Subscribers: members})
	lead, others := leaderAndOthers(t, w, nodes, 4)
	// Every member on one node that does not lead g1's slot; the third
	// node holds none of them.
	var clients []*world.Client
	var inboxes []*inbox
	for _, uid := range members {
		c := connectTo(w, uid, others[0])
		clients, inboxes = append(clients, c), append(inboxes, watch(c))
	}
	w.RunFor(node.PresenceBound)
	sent0, skipped0 := deliveryCounts(t, w)
	sender := clients[0]
	const msgs = 10
	for i := range msgs {
		sender.Send("g1", proto.ChannelGroup, fmt.Sprintf("m%d", i), []byte("hi"), 0, nil)
	}
	w.Until("every member but alice has every message", func() bool {
		for _, in := range inboxes[1:] {
			if len(in.recvs) < msgs {
				return false
			}
		}
		return true
	})
	sent, skipped := deliveryCounts(t, w)
	sent, skipped = sent-sent0, skipped-skipped0
	t.Logf("%d messages to %d recipients on node %d, led on node %d: %d cross-node deliveries, %d members skipped (every member: %d)",
		msgs, len(members)-1, others[0].ID(), lead.ID(), sent, skipped, msgs*(len(nodes)-1))
	if sent != msgs {
		t.Fatalf("%d cross-node deliveries for %d messages whose recipients all sit on one node: want one per message", sent, msgs)
	}
	if skipped != msgs {
		t.Fatalf("the node without recipients was skipped %d times for %d messages", skipped, msgs)
	}
}

// uidLedOn is a uid whose token and ban checks node n answers itself.
func uidLedOn(t *testing.T, w *world.World, n *world.Node, slots int) string {
	t.Helper()
	for i := range 200 {
		uid := fmt.Sprintf("bob%d", i)
		ban := state.SlotOfChannel(node.ChannelKey{Type: proto.ChannelPerson, ID: uid}, slots)
		if w.LeaderOf(state.SlotOfUser(uid, slots)) == n && w.LeaderOf(ban) == n {
			return uid
		}
	}
	t.Fatalf("no uid whose slots node %d leads", n.ID())
	return ""
}

func TestPresenceLostInAPartitionIsRebuiltOnceItHeals(t *testing.T) {
	w := world.New(t, 22)
	nodes := w.AddCluster(3, clusterConfig(4))
	lead, others := leaderAndOthers(t, w, nodes, 4)
	holder := others[0]
	bob := uidLedOn(t, w, holder, 4)
	nodes[0].MustCall(node.ChannelUpsert{Channel: g1, Subscribers: []string{"alice", bob}})
	alice := connectTo(w, "alice", lead)
	// bob logs in while nothing from his node reaches the leader: the
	// leader does not learn he is online there.
	w.Sim.Partition(holder.ID(), lead.ID())
	bIn := watch(connectTo(w, bob, holder))
	w.RunFor(node.PresenceBound)
	alice.Send("g1", proto.ChannelGroup, "m1", []byte("m1"), 0, nil)
	w.RunFor(time.Second)
	if len(bIn.recvs) != 0 {
		t.Fatalf("bob got %d RECVs while his node's presence could not reach the leader", len(bIn.recvs))
	}
	before := lead.MustCall(node.Stats{}).(node.StatsReply).PresenceRefreshes
	w.Sim.Heal()
	w.RunFor(node.PresenceBound)
	alice.Send("g1", proto.ChannelGroup, "m2", []byte("m2"), 0, nil)
	w.Until("bob gets m2", func() bool { return len(bIn.recvs) == 1 && bIn.plain[0] == "m2" })
	if after := lead.MustCall(node.Stats{}).(node.StatsReply).PresenceRefreshes; after <= before {
		t.Fatalf("the leader took in no whole presence after healing (%d before, %d after)", before, after)
	}
}

func TestARestartedNodesOldPresenceIsDropped(t *testing.T) {
	w := world.New(t, 23)
	nodes := w.AddCluster(3, clusterConfig(4))
	lead, others := leaderAndOthers(t, w, nodes, 4)
	holder := others[0]
	nodes[0].MustCall(node.ChannelUpsert{Channel: g1, Subscribers: []string{"alice", "bob"}})
	alice := connectTo(w, "alice", lead)
	aIn := watch(alice)
	bIn := watch(connectTo(w, "bob", holder))
	w.RunFor(node.PresenceBound)
	alice.Send("g1", proto.ChannelGroup, "m1", []byte("m1"), 0, nil)
	w.Until("bob gets m1", func() bool { return len(bIn.recvs) == 1 })
	// bob's node restarts and bob stays away: its new incarnation holds
	// no one, and the leader must stop sending it bob's messages.
	holder.Crash(100)
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	w.Until("the leader drops the old incarnation's presence", func() bool {
		return lead.MustCall(node.Stats{}).(node.StatsReply).PresenceRetired > 0
	})
	sent0, skipped0 := deliveryCounts(t, w)
	alice.Send("g1", proto.ChannelGroup, "m2", []byte("m2"), 0, nil)
	w.Until("m2 acknowledged", func() bool { return len(aIn.acks) == 2 })
	w.RunFor(100 * time.Millisecond)
	sent, skipped := deliveryCounts(t, w)
	if sent != sent0 || skipped-skipped0 != 2 {
		t.Fatalf("after the restart of bob's node, m2 went to %d nodes and skipped %d; want none and both others", sent-sent0, skipped-skipped0)
	}
}

// msg.offline in a cluster judges presence on every node: a recipient
// whose master device is online on a node other than the slot leader's is
// not named offline.
func TestWebhookOfflineInAClusterSeesMasterDevicesOnEveryNode(t *testing.T) {
	w := world.New(t, 24)
	rcv := w.AddReceiver()
	cfg := webhookConfig()
	cfg.TokenAuth, cfg.SlotLoops, cfg.GatewayLoops = true, 2, 2
	nodes := w.AddCluster(3, cfg)
	lead, others := leaderAndOthers(t, w, nodes, cfg.Slots)
	nodes[0].MustCall(node.ChannelUpsert{Channel: g1, Subscribers: []string{"alice", "bob", "carol", "dave", "erin"}})
	connect := func(uid string, level proto.DeviceLevel, on *world.Node) *world.Client {
		nodes[0].MustCall(node.UserToken{UID: uid, Token: "t", DeviceFlag: uint8(proto.DeviceApp), DeviceLevel: uint8(level)})
		c := w.NewClient(world.ClientSpec{UID: uid, Device: "phone", Node: on.ID()})
		c.Token = "t"
		return w.Connect(c)
	}
	alice := connect("alice", proto.DeviceMaster, lead)
	connect("bob", proto.DeviceMaster, others[0]) // online on another node than the leader's
	connect("carol", proto.DeviceMaster, lead)
	connect("erin", proto.DeviceSlave, others[1]) // a slave device only: offline for pushes
	w.RunFor(node.PresenceBound)
	alice.Send("g1", proto.ChannelGroup, "m1", []byte("hi"), 0, nil)
	w.Until("msg.offline arrives", func() bool { return len(rcv.Offline) == 1 && len(rcv.Notified) == 1 })
	if got := rcv.Offline[0].ToUIDs; !slices.Equal(got, []string{"dave", "erin"}) {
		t.Fatalf("msg.offline names %v, want [dave erin]", got)
	}
}
