package sim_test

import (
	"testing"

	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/sim/world"
)

// Behaviours where WuKongIM's clients and back ends expect what WuKongIM
// does (issue 13's defects).

func TestStreamNoIsStoredAndDeliveredInWuKongIMsLayout(t *testing.T) {
	w := world.New(t, 1301)
	n := w.AddNode(1, node.Config{})
	alice := w.Connect(w.NewClient(world.ClientSpec{UID: "alice", Device: "1", Version: 4}))
	bob := w.Connect(w.NewClient(world.ClientSpec{UID: "bob", Device: "1", Version: 4}))
	bIn := watch(bob)
	alice.SendPacket(&proto.Send{Setting: proto.SettingStream, StreamNo: "stream-7", ClientMsgNo: "c1",
		ChannelID: "bob", ChannelType: proto.ChannelPerson}, []byte("chunk"), nil)
	w.Until("delivered", func() bool { return len(bIn.recvs) == 1 })
	r := bIn.recvs[0]
	if r.StreamNo != "stream-7" || r.StreamID != uint64(r.MessageID) || bIn.plain[0] != "chunk" {
		t.Fatalf("RECV stream_no %q stream_id %d (message id %d), payload %q", r.StreamNo, r.StreamID, r.MessageID, bIn.plain[0])
	}
	msgs := syncAll(t, n, "bob", node.ChannelKey{Type: proto.ChannelPerson, ID: "alice"})
	if len(msgs) != 1 || msgs[0].StreamNo != "stream-7" {
		t.Fatalf("stored %+v, want one message with stream_no stream-7", msgs)
	}
}

func TestBannedUserIsRefusedWithReason19(t *testing.T) {
	for _, tokenAuth := range []bool{false, true} {
		w := world.New(t, 1302)
		n := w.AddNode(1, node.Config{TokenAuth: tokenAuth})
		n.MustCall(node.UserToken{UID: "u", Token: "t", DeviceFlag: uint8(proto.DeviceApp), DeviceLevel: 1})
		n.MustCall(node.ChannelInfoUpdate{Channel: node.ChannelKey{Type: proto.ChannelPerson, ID: "u"}, Info: node.ChannelInfo{Ban: true}})
		c := w.Client("u", "1")
		c.Token = "t"
		var reason proto.ReasonCode = 255
		closed := false
		c.OnConnack = func(p *proto.Connack) { reason = p.ReasonCode }
		c.OnClosed = func(error) { closed = true }
		c.Connect()
		w.Until("refusal", func() bool { return closed })
		if reason != proto.ReasonBan {
			t.Fatalf("token auth %v: a banned user's CONNACK reason %d, want 19", tokenAuth, reason)
		}
		// Lifting the ban lets the user in; others were never affected.
		n.MustCall(node.ChannelInfoUpdate{Channel: node.ChannelKey{Type: proto.ChannelPerson, ID: "u"}, Info: node.ChannelInfo{}})
		again := w.Client("u", "2")
		again.Token = "t"
		w.Connect(again)
	}
}

func TestWithoutTokenAuthLoginsAreSlaveAndKickNobody(t *testing.T) {
	w := world.New(t, 1303)
	w.AddNode(1, node.Config{})
	tab1 := w.Connected("u", "tab-1")
	in1 := watch(tab1)
	tab2 := w.Connected("u", "tab-2")
	peer := w.Connected("p", "1")
	in2 := watch(tab2)
	peer.Send("u", proto.ChannelPerson, "m1", []byte("to both tabs"), 0, nil)
	w.Until("both tabs receive", func() bool { return len(in1.recvs) == 1 && len(in2.recvs) == 1 })
	if len(in1.discon) != 0 || !tab1.Open {
		t.Fatalf("the first tab was disconnected (%+v)", in1.discon)
	}
}

func TestReloginWithTheSameDeviceIDClosesTheOldConnection(t *testing.T) {
	for _, tokenAuth := range []bool{false, true} {
		w := world.New(t, 1304)
		n := w.AddNode(1, node.Config{TokenAuth: tokenAuth})
		n.MustCall(node.UserToken{UID: "u", Token: "t", DeviceFlag: uint8(proto.DeviceApp), DeviceLevel: 1})
		login := func(name string) *world.Client {
			c := w.NewClient(world.ClientSpec{Name: name, UID: "u", Device: "phone"})
			c.Token = "t"
			return w.Connect(c)
		}
		old := login("old")
		oldIn := watch(old)
		fresh := login("fresh")
		w.Until("the old connection closes", func() bool { return !old.Open })
		if len(oldIn.discon) != 0 {
			t.Fatalf("token auth %v: the old connection got %+v; WuKongIM closes it without a kick", tokenAuth, oldIn.discon)
		}
		freshIn := watch(fresh)
		n.MustCall(node.UserToken{UID: "p", Token: "t", DeviceFlag: uint8(proto.DeviceApp), DeviceLevel: 1})
		peer := w.Client("p", "1")
		peer.Token = "t"
		w.Connect(peer).Send("u", proto.ChannelPerson, "m", []byte("x"), 0, nil)
		w.Until("the new connection receives", func() bool { return len(freshIn.recvs) == 1 })
	}
}

func TestMalformedInputGetsAMeaningfulReason(t *testing.T) {
	connack, err := proto.AppendFrame(nil, &proto.Connack{ReasonCode: proto.ReasonSuccess}, proto.LatestVersion)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		frame []byte
		want  proto.ReasonCode
	}{
		{"unknown packet type", []byte{0xf0, 0x00}, proto.ReasonNotSupportHeader},
		{"PING with flags", []byte{0x71}, proto.ReasonNotSupportHeader},
		{"truncated RECVACK", []byte{0x60, 0x02, 0x00, 0x01}, proto.ReasonPayloadDecodeError},
		{"a CONNACK from a client", connack, proto.ReasonNotSupportHeader},
	} {
		w := world.New(t, 1305)
		w.AddNode(1, node.Config{})
		c := w.Connected("a", "1")
		in := watch(c)
		c.WriteRaw(tc.frame)
		w.Until(tc.name, func() bool { return len(in.discon) == 1 && !c.Open })
		if d := in.discon[0]; d.ReasonCode != tc.want || d.Reason == "" {
			t.Fatalf("%s: DISCONNECT %+v, want reason %d", tc.name, d, tc.want)
		}
	}
}

func TestChannelTypesBeyondPersonAndGroup(t *testing.T) {
	w := world.New(t, 1306)
	n := w.AddNode(1, node.Config{})
	member, stranger, visitor := w.Connected("member", "1"), w.Connected("stranger", "1"), w.Connected("visitor", "1")
	mIn, sIn, vIn := watch(member), watch(stranger), watch(visitor)
	for _, typ := range []proto.ChannelType{proto.ChannelCustomerService, proto.ChannelCommunity, proto.ChannelCommunityTopic, proto.ChannelInfo, proto.ChannelData, proto.ChannelLive} {
		id := "ch"
		if typ == proto.ChannelCustomerService {
			id = "visitor|desk"
		}
		n.MustCall(node.ChannelUpsert{Channel: node.ChannelKey{Type: typ, ID: id}, Subscribers: []string{"member"}})
	}
	ack := func(in *inbox, what string) proto.ReasonCode {
		t.Helper()
		w.Until(what, func() bool { return len(in.acks) > 0 })
		a := in.acks[0]
		in.acks = in.acks[1:]
		return a.ReasonCode
	}

	// Group-like: only subscribers send; they receive.
	for _, typ := range []proto.ChannelType{proto.ChannelCommunity, proto.ChannelCommunityTopic, proto.ChannelData, proto.ChannelLive} {
		stranger.Send("ch", typ, "", []byte("hi"), 0, nil)
		if r := ack(sIn, "stranger's ack"); r != proto.ReasonSubscriberNotExist {
			t.Fatalf("type %d: a stranger's send got %d, want 3", typ, r)
		}
		member.Send("ch", typ, "", []byte("ok"), 0, nil)
		if r := ack(mIn, "member's ack"); r != proto.ReasonSuccess {
			t.Fatalf("type %d: a subscriber's send got %d", typ, r)
		}
	}
	// Info: open to anyone, delivered to subscribers.
	stranger.Send("ch", proto.ChannelInfo, "", []byte("news"), 0, nil)
	if r := ack(sIn, "info ack"); r != proto.ReasonSuccess {
		t.Fatalf("info: a stranger's send got %d", r)
	}
	w.Until("info delivered", func() bool { return len(mIn.recvs) == 1 })
	// Customer service: open, delivered to the subscribers and the visitor.
	stranger.Send("visitor|desk", proto.ChannelCustomerService, "", []byte("help"), 0, nil)
	if r := ack(sIn, "customer service ack"); r != proto.ReasonSuccess {
		t.Fatalf("customer service: %d", r)
	}
	w.Until("customer service delivered", func() bool { return len(mIn.recvs) == 2 && len(vIn.recvs) == 1 })
	if r := vIn.recvs[0]; r.ChannelID != "visitor|desk" || r.ChannelType != proto.ChannelCustomerService {
		t.Fatalf("visitor got %+v", r)
	}
	// Types Jindou does not serve are refused.
	stranger.Send("ch", proto.ChannelVisitors, "", []byte("x"), 0, nil)
	if r := ack(sIn, "visitors channel ack"); r != proto.ReasonNotSupportChannelType {
		t.Fatalf("visitors channel: %d, want 23", r)
	}
	// Data and live channels keep no conversations.
	convs := n.MustCall(node.ConversationSync{UID: "member"}).([]node.Conversation)
	for _, c := range convs {
		if c.Channel.Type == proto.ChannelData || c.Channel.Type == proto.ChannelLive {
			t.Fatalf("a data or live channel conversation: %+v", c)
		}
	}
	if len(convs) != 4 {
		t.Fatalf("member's conversations %+v, want customer service, community, topic, info", convs)
	}
}
