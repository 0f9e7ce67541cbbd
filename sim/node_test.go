package sim_test

import (
	"testing"
	"time"

	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/node/proto"
)

func TestPersonChatIsAckedWithSeqAndDelivered(t *testing.T) {
	w := newNodeWorld(t, 1, node.Config{})
	alice, alice2 := w.connected("alice", "phone"), w.connect(w.clientAs("alice", "laptop", proto.DeviceWeb, 2))
	bob := w.connected("bob", "phone")
	aIn, a2In, bIn := watch(alice), watch(alice2), watch(bob)

	alice.Send("bob", proto.ChannelPerson, "m1", []byte("你好 👋"), 0, nil)
	w.until("bob receives", func() bool { return len(bIn.recvs) == 1 && len(aIn.acks) == 1 && len(a2In.recvs) == 1 })
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
	w.until("second message", func() bool { return len(aIn.recvs) == 1 })
	if aIn.recvs[0].MessageSeq != 2 {
		t.Fatalf("second message of the chat has seq %d", aIn.recvs[0].MessageSeq)
	}
	reply := w.mustAPI(node.MessageSync{LoginUID: "alice", Channel: node.ChannelKey{Type: proto.ChannelPerson, ID: "bob"}, PullMode: node.PullUp, Start: 1}).(node.SyncReply)
	if len(reply.Messages) != 2 || string(reply.Messages[0].Payload) != "你好 👋" || reply.Messages[1].FromUID != "bob" {
		t.Fatalf("sync %+v", reply)
	}
}

func TestGroupSendNeedsSubscriptionAndReachesMembers(t *testing.T) {
	w := newNodeWorld(t, 2, node.Config{})
	group := node.ChannelKey{Type: proto.ChannelGroup, ID: "g1"}
	w.mustAPI(node.ChannelUpsert{Channel: group, Subscribers: []string{"a", "b", "c"}})
	a, b, c, d := w.connected("a", "1"), w.connected("b", "1"), w.connected("c", "1"), w.connected("d", "1")
	aIn, bIn, cIn, dIn := watch(a), watch(b), watch(c), watch(d)
	a.Send("g1", proto.ChannelGroup, "x1", []byte("hello group"), 0, nil)
	d.Send("g1", proto.ChannelGroup, "x2", []byte("intruder"), 0, nil)
	w.until("deliveries", func() bool { return len(bIn.recvs) == 1 && len(cIn.recvs) == 1 && len(dIn.acks) == 1 })
	if dIn.acks[0].ReasonCode != proto.ReasonSubscriberNotExist {
		t.Fatalf("a non-member's send got reason %d", dIn.acks[0].ReasonCode)
	}
	if bIn.recvs[0].ChannelID != "g1" || bIn.plain[0] != "hello group" || aIn.acks[0].MessageSeq != 1 {
		t.Fatalf("recv %+v", bIn.recvs[0])
	}
	w.s.RunFor(time.Second)
	if len(dIn.recvs) != 0 {
		t.Fatal("a non-member received a group message")
	}
}
