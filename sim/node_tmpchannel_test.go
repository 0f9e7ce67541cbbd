package sim_test

import (
	"testing"

	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/sim/world"
)

func TestATemporaryChannelDeliversToTheSubscribersSetLastAcrossARestart(t *testing.T) {
	w := world.New(t, 1333)
	n := w.AddNode(1, node.Config{Slots: 4})
	tmp := node.ChannelKey{Type: proto.ChannelTemp, ID: "tmp"}
	n.MustCall(node.TmpSubscriberSet{ChannelID: "tmp", UIDs: []string{"a", "b"}})
	a, b := w.Connected("a", "1"), w.Connected("b", "1")
	aIn, bIn := watch(a), watch(b)
	n.MustCall(node.SendMessage{Channel: tmp, Payload: []byte("to both")})
	w.Until("both receive", func() bool { return len(aIn.recvs) == 1 && len(bIn.recvs) == 1 })
	if r := aIn.recvs[0]; r.ChannelType != proto.ChannelTemp || r.ChannelID != "tmp" || aIn.plain[0] != "to both" {
		t.Fatalf("a got %+v %q", r, aIn.plain[0])
	}
	n.MustCall(node.TmpSubscriberSet{ChannelID: "tmp", UIDs: []string{"b"}})
	n.Crash(0)
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	a, b = w.Connected("a", "2"), w.Connected("b", "2")
	aIn, bIn = watch(a), watch(b)
	n.MustCall(node.SendMessage{Channel: tmp, Payload: []byte("to b")})
	w.Until("b receives", func() bool { return len(bIn.recvs) == 1 })
	a.Send("tmp", proto.ChannelTemp, "from-a", []byte("x"), 0, nil)
	w.Until("a's send answered", func() bool { return len(aIn.acks) == 1 })
	if len(aIn.recvs) != 0 || aIn.acks[0].ReasonCode != proto.ReasonSubscriberNotExist {
		t.Fatalf("a, no longer a subscriber: %d RECVs, SENDACK %d", len(aIn.recvs), aIn.acks[0].ReasonCode)
	}
	for _, c := range n.MustCall(node.ConversationSync{UID: "b"}).([]node.Conversation) {
		if c.Channel.Type == proto.ChannelTemp {
			t.Fatalf("b has a conversation of the temporary channel: %+v", c)
		}
	}
}
