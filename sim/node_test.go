package sim_test

import (
	"testing"
	"time"

	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/sim/world"
)

var g1 = node.ChannelKey{Type: proto.ChannelGroup, ID: "g1"}

// inbox collects what a client receives.
type inbox struct {
	recvs  []*proto.Recv
	plain  []string
	acks   []*proto.Sendack
	discon []*proto.Disconnect
}

func watch(c *world.Client) *inbox {
	in := &inbox{}
	c.OnRecv = func(r *proto.Recv, p []byte) { in.recvs = append(in.recvs, r); in.plain = append(in.plain, string(p)) }
	c.OnSendack = func(_ *world.Sent, a *proto.Sendack) { in.acks = append(in.acks, a) }
	c.OnDisconnect = func(d *proto.Disconnect) { in.discon = append(in.discon, d) }
	return in
}

// syncAll reads a channel's whole log, failing the test on an error.
func syncAll(t testing.TB, n *world.Node, uid string, ch node.ChannelKey) []*node.Message {
	t.Helper()
	msgs, err := n.SyncAll(uid, ch)
	if err != nil {
		t.Fatalf("reading %s: %v", ch, err)
	}
	return msgs
}

func awaitReady(t testing.TB, n *world.Node) {
	t.Helper()
	if err := n.AwaitReady(); err != nil {
		t.Fatal(err)
	}
}

func TestPersonChatIsAckedWithSeqAndDelivered(t *testing.T) {
	w := world.New(t, 1)
	n := w.AddNode(1, node.Config{})
	alice, alice2 := w.Connected("alice", "phone"), w.Connect(w.NewClient(world.ClientSpec{UID: "alice", Device: "laptop", Flag: proto.DeviceWeb, Version: 2}))
	bob := w.Connected("bob", "phone")
	aIn, a2In, bIn := watch(alice), watch(alice2), watch(bob)

	alice.Send("bob", proto.ChannelPerson, "m1", []byte("你好 👋"), 0, nil)
	w.Until("bob receives", func() bool { return len(bIn.recvs) == 1 && len(aIn.acks) == 1 && len(a2In.recvs) == 1 })
	if a := aIn.acks[0]; a.ReasonCode != proto.ReasonSuccess || a.MessageSeq != 1 || a.MessageID == 0 {
		t.Fatalf("SENDACK %+v", a)
	}
	r := bIn.recvs[0]
	if r.ChannelID != "alice" || r.FromUID != "alice" || bIn.plain[0] != "你好 👋" || r.MessageSeq != 1 || r.MessageID != aIn.acks[0].MessageID {
		t.Fatalf("bob's RECV %+v %q", r, bIn.plain[0])
	}
	if r2 := a2In.recvs[0]; r2.ChannelID != "bob" {
		t.Fatalf("alice's other device sees channel %q, want bob", r2.ChannelID)
	}
	if len(aIn.recvs) != 0 {
		t.Fatal("the sending connection got its own message back")
	}
	bob.Send("alice", proto.ChannelPerson, "m2", []byte("hi"), 0, nil)
	w.Until("second message", func() bool { return len(aIn.recvs) == 1 })
	if aIn.recvs[0].MessageSeq != 2 {
		t.Fatalf("second message of the chat has seq %d", aIn.recvs[0].MessageSeq)
	}
	reply := n.MustCall(node.MessageSync{LoginUID: "alice", Channel: node.ChannelKey{Type: proto.ChannelPerson, ID: "bob"}, PullMode: node.PullUp, Start: 1}).(node.SyncReply)
	if len(reply.Messages) != 2 || string(reply.Messages[0].Payload) != "你好 👋" || reply.Messages[1].FromUID != "bob" {
		t.Fatalf("sync %+v", reply)
	}
}

func TestGroupSendNeedsSubscriptionAndReachesMembers(t *testing.T) {
	w := world.New(t, 2)
	n := w.AddNode(1, node.Config{})
	group := node.ChannelKey{Type: proto.ChannelGroup, ID: "g1"}
	n.MustCall(node.ChannelUpsert{Channel: group, Subscribers: []string{"a", "b", "c"}})
	a, b, c, d := w.Connected("a", "1"), w.Connected("b", "1"), w.Connected("c", "1"), w.Connected("d", "1")
	aIn, bIn, cIn, dIn := watch(a), watch(b), watch(c), watch(d)
	a.Send("g1", proto.ChannelGroup, "x1", []byte("hello group"), 0, nil)
	d.Send("g1", proto.ChannelGroup, "x2", []byte("intruder"), 0, nil)
	w.Until("deliveries", func() bool { return len(bIn.recvs) == 1 && len(cIn.recvs) == 1 && len(dIn.acks) == 1 })
	if dIn.acks[0].ReasonCode != proto.ReasonSubscriberNotExist {
		t.Fatalf("a non-member's send got reason %d", dIn.acks[0].ReasonCode)
	}
	if bIn.recvs[0].ChannelID != "g1" || bIn.plain[0] != "hello group" || aIn.acks[0].MessageSeq != 1 {
		t.Fatalf("recv %+v", bIn.recvs[0])
	}
	w.RunFor(time.Second)
	if len(dIn.recvs) != 0 {
		t.Fatal("a non-member received a group message")
	}
}
