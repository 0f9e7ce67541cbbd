package sim_test

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/runtime"
	"github.com/jindou-im/jindou/sim"
	"github.com/jindou-im/jindou/sim/world"
)

func TestAcknowledgedSendsSurviveCrashAndSeqsContinue(t *testing.T) {
	for _, keep := range []int{0, 30, 100} {
		t.Run(fmt.Sprintf("keep%d", keep), func(t *testing.T) {
			w := world.New(t, 3)
			n := w.AddNode(1, node.Config{})
			n.MustCall(node.ChannelUpsert{Channel: g1, Subscribers: []string{"a", "b"}})
			a := w.Connected("a", "1")
			in := watch(a)
			for i := range 40 {
				a.Send("g1", proto.ChannelGroup, fmt.Sprintf("m%d", i), []byte(fmt.Sprint(i)), 0, nil)
			}
			// Crash in the middle: some sends acknowledged, some not.
			w.Until("some acks", func() bool { return len(in.acks) >= 10 })
			acked := map[uint64]int64{}
			for _, ack := range in.acks {
				acked[ack.MessageSeq] = ack.MessageID
			}
			n.Crash(keep)
			n.Start()
			msgs := syncAll(t, n, "a", g1)
			for i, m := range msgs {
				if m.Seq != uint64(i+1) {
					t.Fatalf("seq %d at position %d: a gap or a reuse", m.Seq, i)
				}
			}
			for seq, id := range acked {
				if seq > uint64(len(msgs)) || msgs[seq-1].MessageID != id {
					t.Fatalf("acknowledged seq %d (id %d) lost after the crash", seq, id)
				}
			}
			b := w.Connected("b", "1")
			bIn := watch(b)
			a = w.Connected("a", "2")
			aIn := watch(a)
			a.Send("g1", proto.ChannelGroup, "after", []byte("after"), 0, nil)
			w.Until("ack after restart", func() bool { return len(aIn.acks) == 1 && len(bIn.recvs) == 1 })
			if got := aIn.acks[0].MessageSeq; got != uint64(len(msgs))+1 {
				t.Fatalf("first seq after restart %d, want %d", got, len(msgs)+1)
			}
		})
	}
}

func TestRepeatedClientMsgNoReturnsTheOriginal(t *testing.T) {
	w := world.New(t, 4)
	n := w.AddNode(1, node.Config{})
	a := w.Connected("a", "1")
	b := w.Connected("b", "1")
	aIn, bIn := watch(a), watch(b)
	a.Send("b", proto.ChannelPerson, "same", []byte("one"), 0, nil)
	w.Until("first ack", func() bool { return len(aIn.acks) == 1 })
	a.Send("b", proto.ChannelPerson, "same", []byte("one again"), 0, nil)
	a.Send("b", proto.ChannelPerson, "other", []byte("two"), 0, nil)
	w.Until("acks", func() bool { return len(aIn.acks) == 3 })
	first, again, other := aIn.acks[0], aIn.acks[1], aIn.acks[2]
	if again.MessageID != first.MessageID || again.MessageSeq != first.MessageSeq || other.MessageSeq != 2 {
		t.Fatalf("acks %+v %+v %+v", first, again, other)
	}
	if msgs := syncAll(t, n, "a", node.ChannelKey{Type: proto.ChannelPerson, ID: "b"}); len(msgs) != 2 {
		t.Fatalf("%d messages stored, want 2", len(msgs))
	}
	w.RunFor(time.Second)
	if len(bIn.recvs) != 2 {
		t.Fatalf("bob got %d RECVs, want 2 (a duplicate is not delivered again)", len(bIn.recvs))
	}
}

func TestNoPersistIsDeliveredButNotStored(t *testing.T) {
	w := world.New(t, 5)
	n := w.AddNode(1, node.Config{})
	a, b := w.Connected("a", "1"), w.Connected("b", "1")
	aIn, bIn := watch(a), watch(b)
	a.Send("b", proto.ChannelPerson, "np", []byte("typing"), proto.FlagNoPersist, nil)
	w.Until("delivery", func() bool { return len(bIn.recvs) == 1 && len(aIn.acks) == 1 })
	if aIn.acks[0].MessageSeq != 0 || aIn.acks[0].ReasonCode != proto.ReasonSuccess || bIn.recvs[0].Flags&proto.FlagNoPersist == 0 {
		t.Fatalf("ack %+v recv flags %x", aIn.acks[0], bIn.recvs[0].Flags)
	}
	if n := len(syncAll(t, n, "a", node.ChannelKey{Type: proto.ChannelPerson, ID: "b"})); n != 0 {
		t.Fatalf("a no_persist message was stored (%d)", n)
	}
}

func TestTokenAuthRefusesWithConnackReason(t *testing.T) {
	w := world.New(t, 6)
	n := w.AddNode(1, node.Config{TokenAuth: true})
	n.MustCall(node.UserToken{UID: "u", Token: "secret", DeviceFlag: uint8(proto.DeviceApp), DeviceLevel: 1})
	bad := w.Client("u", "1")
	bad.Token = "wrong"
	var reason proto.ReasonCode = 255
	closed := false
	bad.OnConnack = func(p *proto.Connack) { reason = p.ReasonCode }
	bad.OnClosed = func(error) { closed = true }
	bad.Connect()
	w.Until("refusal", func() bool { return closed })
	if reason != proto.ReasonAuthFail {
		t.Fatalf("wrong token: CONNACK reason %d, want 2", reason)
	}
	good := w.Client("u", "2")
	good.Token = "secret"
	w.Connect(good)
}

func TestRefusedConnectsGetReasons(t *testing.T) {
	w := world.New(t, 7)
	w.AddNode(1, node.Config{})
	for _, tc := range []struct {
		name string
		edit func(*proto.Connect)
		want proto.ReasonCode
	}{
		{"uid with @", func(p *proto.Connect) { p.UID = "a@b" }, proto.ReasonAuthFail},
		{"empty uid", func(p *proto.Connect) { p.UID = "" }, proto.ReasonAuthFail},
		{"no client key", func(p *proto.Connect) { p.ClientKey = "" }, proto.ReasonClientKeyIsEmpty},
		{"bad client key", func(p *proto.Connect) { p.ClientKey = "bm90IGEga2V5" }, proto.ReasonClientKeyIsEmpty},
		{"version 1", func(p *proto.Connect) { p.Version = 1 }, proto.ReasonProtocolUpgradeRequired},
	} {
		// The client reads CONNACK as version 2, the layout the server
		// answers a refused version with.
		c := w.NewClient(world.ClientSpec{UID: "u-" + tc.name, Device: "1", Flag: proto.DeviceApp, Version: 2})
		var got proto.ReasonCode = 255
		closed := false
		c.EditConnect = tc.edit
		c.OnConnack = func(p *proto.Connack) { got = p.ReasonCode }
		c.OnClosed = func(error) { closed = true }
		c.Connect()
		w.Until(tc.name, func() bool { return closed })
		if got != tc.want {
			t.Fatalf("%s: CONNACK reason %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestMasterLoginKicksTheOtherDevice(t *testing.T) {
	w := world.New(t, 8)
	n := w.AddNode(1, node.Config{TokenAuth: true})
	n.MustCall(node.UserToken{UID: "u", Token: "t", DeviceFlag: uint8(proto.DeviceApp), DeviceLevel: uint8(proto.DeviceMaster)})
	old := w.Client("u", "phone-1")
	old.Token = "t"
	w.Connect(old)
	oldIn := watch(old)
	next := w.Client("u", "phone-2")
	next.Token = "t"
	w.Connect(next)
	w.Until("kick", func() bool { return len(oldIn.discon) == 1 })
	if d := oldIn.discon[0]; d.ReasonCode != proto.ReasonConnectKick {
		t.Fatalf("DISCONNECT %+v, want reason 12", d)
	}
	w.Until("closed", func() bool { return !old.Open })
}

func TestMalformedInputDisconnectsOnlyThatConnection(t *testing.T) {
	w := world.New(t, 9)
	w.AddNode(1, node.Config{})
	a, b, c := w.Connected("a", "1"), w.Connected("b", "1"), w.Connected("c", "1")
	aIn, bIn := watch(a), watch(b)
	a.WriteRaw([]byte{0xf0, 0xff, 0xff, 0xff, 0xff, 0x7f}) // unknown type, oversized length
	w.Until("disconnect", func() bool { return len(aIn.discon) == 1 && !a.Open })
	c.Send("b", proto.ChannelPerson, "x", []byte("still works"), 0, nil)
	w.Until("others unaffected", func() bool { return len(bIn.recvs) == 1 })
}

// refusedBeforeConnect writes frame on a fresh connection before its
// CONNECT goes out and returns the DISCONNECT the server closed it with.
func refusedBeforeConnect(t *testing.T, seed uint64, frame []byte) *proto.Disconnect {
	t.Helper()
	w := world.New(t, seed)
	w.AddNode(1, node.Config{})
	c := w.Client("x", "1")
	in := watch(c)
	closed := false
	c.OnClosed = func(error) { closed = true }
	c.Connect() // dials; the CONNECT goes out once the connection opens
	c.WriteRaw(frame)
	w.Until("closed", func() bool { return closed })
	if len(in.discon) != 1 {
		t.Fatalf("%d DISCONNECTs before the close, want 1", len(in.discon))
	}
	if c.Ready {
		t.Fatal("the connection was accepted after a frame before CONNECT")
	}
	return in.discon[0]
}

func TestFrameBeforeConnectIsRefusedByTheGateway(t *testing.T) {
	// A PING decodes at any version, so it reaches the gateway, which
	// refuses every frame but CONNECT before CONNECT.
	ping, err := proto.AppendFrame(nil, &proto.Ping{}, proto.LatestVersion)
	if err != nil {
		t.Fatal(err)
	}
	d := refusedBeforeConnect(t, 10, ping)
	want := "protocol error: PING before CONNECT: the connection is not authenticated"
	if d.ReasonCode != proto.ReasonAuthFail || d.Reason != want {
		t.Fatalf("DISCONNECT %+v, want reason 2 and %q", d, want)
	}
}

func TestSendBeforeConnectIsRefusedAsUnauthenticated(t *testing.T) {
	// A SEND needs the negotiated version, which only CONNECT sets: the
	// gateway refuses its frame before decoding it, naming the real cause
	// (not the version the decoder would complain of).
	send, err := proto.AppendFrame(nil, &proto.Send{ClientSeq: 1, ChannelID: "y", ChannelType: 1, MsgKey: "k", Payload: []byte("p")}, proto.LatestVersion)
	if err != nil {
		t.Fatal(err)
	}
	d := refusedBeforeConnect(t, 10, send)
	want := "protocol error: SEND before CONNECT: the connection is not authenticated"
	if d.ReasonCode != proto.ReasonAuthFail || d.Reason != want {
		t.Fatalf("DISCONNECT %+v, want reason 2 and %q", d, want)
	}
}

func TestPingIsAnsweredAndIdleConnectionsClose(t *testing.T) {
	w := world.New(t, 11)
	w.AddNode(1, node.Config{IdleTimeout: 10 * time.Second})
	c := w.Connected("x", "1")
	w.RunFor(5 * time.Second)
	c.Ping()
	w.RunFor(8 * time.Second)
	if c.Pongs != 1 {
		t.Fatalf("%d PONGs for one PING", c.Pongs)
	}
	if !c.Open {
		t.Fatal("a connection that pinged 8s ago was closed with a 10s idle timeout")
	}
	w.RunFor(5 * time.Second)
	if c.Open {
		t.Fatal("an idle connection outlived the idle timeout")
	}
}

// closeWatcher records when its connection closes.
type closeWatcher struct {
	closedAt time.Duration
	s        interface{ Now() time.Duration }
}

func (h *closeWatcher) Handle(ev runtime.Event) {
	if _, ok := ev.(runtime.ConnClosed); ok {
		h.closedAt = h.s.Now()
	}
}

func TestConnectDeadlineClosesSilentConnections(t *testing.T) {
	w := world.New(t, 12)
	n := w.AddNode(1, node.Config{ConnectTimeout: 2 * time.Second})
	h := &closeWatcher{s: w.Sim}
	w.Sim.Dial(w.Sim.NewActor("silent", h), n.ID(), "tcp")
	start := w.Sim.Now()
	w.RunFor(5 * time.Second)
	if h.closedAt == 0 || h.closedAt-start < 2*time.Second || h.closedAt-start > 2100*time.Millisecond {
		t.Fatalf("a connection that never sent CONNECT closed at %v, want 2s after it opened", h.closedAt-start)
	}
}

func TestUnacknowledgedRecvIsResentUntilAckedOrGivenUp(t *testing.T) {
	w := world.New(t, 13)
	w.AddNode(1, node.Config{ResendInterval: time.Second, ResendMax: 3})
	a, b := w.Connected("a", "1"), w.Connected("b", "1")
	b.AutoAck = false
	bIn := watch(b)
	a.Send("b", proto.ChannelPerson, "m", []byte("x"), 0, nil)
	w.RunFor(10 * time.Second)
	if n := len(bIn.recvs); n != 4 {
		t.Fatalf("an unacknowledged RECV arrived %d times, want 1 + 3 resends", n)
	}
	for _, r := range bIn.recvs[1:] {
		if r.Flags&proto.FlagDup == 0 {
			t.Fatal("a resend lacks the DUP flag")
		}
	}
	b.AutoAck = true
	a.Send("b", proto.ChannelPerson, "m2", []byte("y"), 0, nil)
	w.RunFor(10 * time.Second)
	if n := len(bIn.recvs); n != 5 {
		t.Fatalf("an acknowledged RECV was resent (%d RECVs)", n)
	}
}

func TestSendPermissionReasons(t *testing.T) {
	w := world.New(t, 14)
	n := w.AddNode(1, node.Config{})
	n.MustCall(node.ChannelUpsert{Channel: g1, Subscribers: []string{"a", "b", "sys"}})
	n.MustCall(node.SystemUIDs{Op: "add", UIDs: []string{"sys"}})
	a, sys := w.Connected("a", "1"), w.Connected("sys", "1")
	aIn, sysIn := watch(a), watch(sys)
	try := func(want proto.ReasonCode, what string) {
		t.Helper()
		n := len(aIn.acks)
		a.Send("g1", proto.ChannelGroup, fmt.Sprint(what, n), []byte("x"), 0, nil)
		w.Until(what, func() bool { return len(aIn.acks) == n+1 })
		if got := aIn.acks[n].ReasonCode; got != want {
			t.Fatalf("%s: reason %d, want %d", what, got, want)
		}
	}
	try(proto.ReasonSuccess, "member")
	n.MustCall(node.ListUpdate{Channel: g1, List: "blacklist", Op: "add", UIDs: []string{"a"}})
	try(proto.ReasonInBlacklist, "blacklisted")
	n.MustCall(node.ListUpdate{Channel: g1, List: "blacklist", Op: "remove_all"})
	n.MustCall(node.ListUpdate{Channel: g1, List: "whitelist", Op: "set", UIDs: []string{"b"}})
	try(proto.ReasonNotInWhitelist, "not whitelisted")
	n.MustCall(node.ListUpdate{Channel: g1, List: "whitelist", Op: "remove_all"})
	n.MustCall(node.ChannelInfoUpdate{Channel: g1, Info: node.ChannelInfo{SendBan: true}})
	try(proto.ReasonSendBan, "send_ban")
	n.MustCall(node.ChannelInfoUpdate{Channel: g1, Info: node.ChannelInfo{Ban: true}})
	try(proto.ReasonBan, "ban")
	sys.Send("g1", proto.ChannelGroup, "sys1", []byte("system"), 0, nil)
	w.Until("system send", func() bool { return len(sysIn.acks) == 1 })
	if sysIn.acks[0].ReasonCode != proto.ReasonSuccess {
		t.Fatalf("a system uid was refused with %d", sysIn.acks[0].ReasonCode)
	}
	n.MustCall(node.ChannelInfoUpdate{Channel: g1, Info: node.ChannelInfo{Disband: true}})
	try(proto.ReasonDisband, "disband")
	a.Send("nope", proto.ChannelGroup, "ne", []byte("x"), 0, nil)
	w.Until("no channel", func() bool { return aIn.acks[len(aIn.acks)-1].ReasonCode == proto.ReasonChannelNotExist })
	a.Send("x", proto.ChannelVisitors, "ct", []byte("x"), 0, nil)
	w.Until("channel type", func() bool { return aIn.acks[len(aIn.acks)-1].ReasonCode == proto.ReasonNotSupportChannelType })
	// A person's own blacklist.
	n.MustCall(node.ListUpdate{Channel: node.ChannelKey{Type: proto.ChannelPerson, ID: "b"}, List: "blacklist", Op: "add", UIDs: []string{"a"}})
	a.Send("b", proto.ChannelPerson, "pb", []byte("x"), 0, nil)
	w.Until("person blacklist", func() bool { return aIn.acks[len(aIn.acks)-1].ReasonCode == proto.ReasonInBlacklist })
}

func TestCorruptPayloadGetsReason9(t *testing.T) {
	w := world.New(t, 15)
	w.AddNode(1, node.Config{})
	a := w.Connected("a", "1")
	in := watch(a)
	// A SEND whose msg_key does not match its content.
	send, _ := proto.AppendFrame(nil, &proto.Send{ClientSeq: 77, ClientMsgNo: "z", ChannelID: "b", ChannelType: 1, MsgKey: "00000000000000000000000000000000", Payload: []byte("bm90IGVuY3J5cHRlZA==")}, proto.LatestVersion)
	var ack *proto.Sendack
	a.OnSendack = func(_ *world.Sent, p *proto.Sendack) { ack = p }
	a.SendRaw(77, send)
	w.Until("refusal", func() bool { return ack != nil })
	if ack.ReasonCode != proto.ReasonPayloadDecodeError || len(in.recvs) != 0 {
		t.Fatalf("SENDACK %+v, want reason 9", ack)
	}
}

func TestConversationUnreadArithmetic(t *testing.T) {
	w := world.New(t, 16)
	n := w.AddNode(1, node.Config{})
	n.MustCall(node.SendMessage{FromUID: "a", Channel: node.ChannelKey{Type: proto.ChannelPerson, ID: "b"}, Payload: []byte("x")})
	n.MustCall(node.ChannelUpsert{Channel: g1, Subscribers: []string{"a"}})
	for range 3 {
		n.MustCall(node.SendMessage{FromUID: "a", Channel: g1, Payload: []byte("x")})
	}
	n.MustCall(node.Subscribers{Channel: g1, Subscribers: []string{"b"}})
	n.MustCall(node.SendMessage{FromUID: "a", Channel: g1, Payload: []byte("y")})
	n.MustCall(node.SendMessage{FromUID: "a", Channel: g1, Payload: []byte("z")})
	convs := n.MustCall(node.ConversationSync{UID: "b", MsgCount: 5}).([]node.Conversation)
	unread := map[string]uint64{}
	for _, c := range convs {
		unread[c.Channel.String()] = c.Unread
	}
	if len(convs) != 2 || unread["2:g1"] != 2 || unread["1:"+node.PersonChannelID("a", "b")] != 1 {
		t.Fatalf("b's conversations %+v (joined after 3 messages: 2 unread in g1; 1 in the person chat)", unread)
	}
	n.MustCall(node.SendMessage{FromUID: "b", Channel: g1, Payload: []byte("mine")})
	n.MustCall(node.ConversationUpdate{UID: "b", Channel: node.ChannelKey{Type: 1, ID: "a"}, Op: "set_unread", Unread: 1})
	convs = n.MustCall(node.ConversationSync{UID: "b"}).([]node.Conversation)
	for _, c := range convs {
		if c.Channel == g1 && c.Unread != 0 {
			t.Fatalf("after b's own message g1 unread %d", c.Unread)
		}
	}
	n.MustCall(node.ConversationUpdate{UID: "b", Channel: node.ChannelKey{Type: 1, ID: "a"}, Op: "delete"})
	convs = n.MustCall(node.ConversationSync{UID: "b"}).([]node.Conversation)
	if len(convs) != 1 {
		t.Fatalf("a deleted conversation still listed: %+v", convs)
	}
	n.MustCall(node.SendMessage{FromUID: "a", Channel: node.ChannelKey{Type: proto.ChannelPerson, ID: "b"}, Payload: []byte("back")})
	convs = n.MustCall(node.ConversationSync{UID: "b"}).([]node.Conversation)
	if len(convs) != 2 {
		t.Fatalf("a newer message did not bring a deleted conversation back: %+v", convs)
	}
}

func TestRemovedSubscriberReceivesNothingAfterRemoval(t *testing.T) {
	w := world.New(t, 17)
	n := w.AddNode(1, node.Config{})
	n.MustCall(node.ChannelUpsert{Channel: g1, Subscribers: []string{"a", "b"}})
	a, b := w.Connected("a", "1"), w.Connected("b", "1")
	aIn, bIn := watch(a), watch(b)
	a.Send("g1", proto.ChannelGroup, "1", []byte("x"), 0, nil)
	w.Until("first", func() bool { return len(bIn.recvs) == 1 })
	n.MustCall(node.Subscribers{Channel: g1, Remove: true, Subscribers: []string{"b"}})
	a.Send("g1", proto.ChannelGroup, "2", []byte("y"), 0, nil)
	w.Until("ack", func() bool { return len(aIn.acks) == 2 })
	w.RunFor(time.Second)
	if len(bIn.recvs) != 1 {
		t.Fatal("a removed subscriber received a later message")
	}
}

func TestAPISendAnswersWithDurableSeq(t *testing.T) {
	w := world.New(t, 18)
	n := w.AddNode(1, node.Config{})
	n.MustCall(node.ChannelUpsert{Channel: g1, Subscribers: []string{"a"}})
	b := w.Connected("a", "1")
	in := watch(b)
	r := n.MustCall(node.SendMessage{ClientMsgNo: "k1", FromUID: "", Channel: g1, Payload: []byte("from the back end")}).(node.SendReply)
	again := n.MustCall(node.SendMessage{ClientMsgNo: "k1", FromUID: "", Channel: g1, Payload: []byte("from the back end")}).(node.SendReply)
	if r.MessageSeq != 1 || again != r {
		t.Fatalf("replies %+v then %+v", r, again)
	}
	w.Until("delivery", func() bool { return len(in.recvs) == 1 })
	if _, err := n.Call(node.SendMessage{FromUID: "a", Channel: node.ChannelKey{Type: 2, ID: "none"}, Payload: []byte("x")}); err == nil {
		t.Fatal("a send to a missing group succeeded")
	}
	if _, err := n.Call(node.SendMessage{FromUID: "a", Channel: g1}); err == nil {
		t.Fatal("an empty payload was accepted")
	}
}

func TestDeviceQuitAndOnlineStatus(t *testing.T) {
	w := world.New(t, 19)
	n := w.AddNode(1, node.Config{})
	a := w.Connected("a", "1")
	in := watch(a)
	w.Connect(w.NewClient(world.ClientSpec{UID: "a", Device: "web", Flag: proto.DeviceWeb, Version: 2}))
	got := n.MustCall(node.OnlineStatus{UIDs: []string{"a", "zz"}}).([]node.OnlineConn)
	if len(got) != 2 {
		t.Fatalf("online %+v, want a's two connections", got)
	}
	n.MustCall(node.DeviceQuit{UID: "a", DeviceFlag: int(proto.DeviceApp)})
	w.Until("kicked", func() bool { return len(in.discon) == 1 })
	w.RunFor(100 * time.Millisecond)
	if got := n.MustCall(node.OnlineStatus{UIDs: []string{"a"}}).([]node.OnlineConn); len(got) != 1 {
		t.Fatalf("after device_quit of the app flag: %+v", got)
	}
}

func TestStatsConnzAndReadiness(t *testing.T) {
	w := world.New(t, 20)
	n := w.AddNode(1, node.Config{Slots: 8})
	if r := n.MustCall(node.Ready{}).(node.ReadyReply); r.Ready || r.Reason == "" {
		t.Fatalf("a node whose slots have not elected themselves yet says ready=%v %q", r.Ready, r.Reason)
	}
	awaitReady(t, n)
	a, b := w.Connected("a", "1"), w.Connected("b", "1")
	in := watch(a)
	watch(b)
	a.Send("b", proto.ChannelPerson, "1", []byte("x"), 0, nil)
	w.Until("ack", func() bool { return len(in.acks) == 1 })
	st := n.MustCall(node.Stats{}).(node.StatsReply)
	var latencies int64
	for _, n := range st.SendLatency {
		latencies += n
	}
	if st.Connections != 2 || st.Online != 2 || st.MessagesStored != 1 || latencies != 1 || st.LeaderSlots != 8 || st.InMsgs < 3 {
		t.Fatalf("stats %+v", st)
	}
	cz := n.MustCall(node.Connz{UID: "b"}).(node.ConnzReply)
	if cz.Total != 1 || cz.Connections[0].UID != "b" || cz.Connections[0].OutMsgs < 2 {
		t.Fatalf("connz %+v", cz)
	}
	n.Crash(0)
	n.Start()
	if r := n.MustCall(node.Ready{}).(node.ReadyReply); r.Ready {
		t.Fatal("ready at once after a restart, before the slots caught up")
	}
	awaitReady(t, n)
}

func TestBackEndPersonMessagesComeFromTheSystemUID(t *testing.T) {
	w := world.New(t, 21)
	n := w.AddNode(1, node.Config{})
	b := w.Connected("b", "1")
	in := watch(b)
	n.MustCall(node.SendMessage{Channel: node.ChannelKey{Type: proto.ChannelPerson, ID: "b"}, Payload: []byte("notice")})
	w.Until("notice", func() bool { return len(in.recvs) == 1 })
	if r := in.recvs[0]; r.FromUID != node.SystemUID || r.ChannelID != node.SystemUID {
		t.Fatalf("a back-end notice came from %q in channel %q", r.FromUID, r.ChannelID)
	}
	if convs := n.MustCall(node.ConversationSync{UID: "b"}).([]node.Conversation); len(convs) != 0 {
		t.Fatalf("a system notice shows as a conversation: %+v", convs)
	}
}

func TestCompactedLogSurvivesCrashesWithEveryMessage(t *testing.T) {
	for _, keep := range []int{0, 100} {
		w := world.New(t, 22)
		n := w.AddNode(1, node.Config{Slots: 2, CompactLogAfter: 8})
		n.MustCall(node.ChannelUpsert{Channel: g1, Subscribers: []string{"a"}})
		for i := range 60 {
			n.MustCall(node.SendMessage{FromUID: "a", Channel: g1, Payload: []byte(fmt.Sprint(i))})
		}
		if st := n.MustCall(node.Stats{}).(node.StatsReply); st.Compactions == 0 {
			t.Fatal("60 entries with CompactLogAfter 8 compacted nothing")
		}
		n.Crash(keep)
		n.Start()
		msgs := syncAll(t, n, "a", g1)
		if len(msgs) != 60 || string(msgs[59].Payload) != "59" {
			t.Fatalf("keep %d%%: %d messages after the crash, want 60", keep, len(msgs))
		}
		r := n.MustCall(node.SendMessage{FromUID: "a", Channel: g1, Payload: []byte("after")}).(node.SendReply)
		if r.MessageSeq != 61 {
			t.Fatalf("keep %d%%: seq %d after the crash, want 61", keep, r.MessageSeq)
		}
	}
}

func TestGracefulStopFailsPendingSendsAndDisconnects(t *testing.T) {
	w := world.New(t, 23)
	n := w.AddNode(1, node.Config{})
	a := w.Connected("a", "1")
	in := watch(a)
	n.Proc().SetDisk(sim.DiskConfig{LatencyMin: time.Second, LatencyMax: time.Second})
	a.Send("b", proto.ChannelPerson, "slow", []byte("x"), 0, nil)
	w.RunFor(100 * time.Millisecond)
	n.Stop()
	w.Until("goodbye", func() bool { return len(in.acks) == 1 && len(in.discon) == 1 })
	if in.acks[0].ReasonCode != proto.ReasonSystemError {
		t.Fatalf("a send pending at stop got reason %d, want 15", in.acks[0].ReasonCode)
	}
	n.Start()
	if msgs := syncAll(t, n, "a", node.ChannelKey{Type: proto.ChannelPerson, ID: "b"}); len(msgs) > 1 {
		t.Fatalf("%d messages stored", len(msgs))
	}
}

func TestCoreLogsOnlyThroughTheRuntimesLogger(t *testing.T) {
	var buf strings.Builder
	w := world.New(t, 1, world.WithLog(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	awaitReady(t, w.AddNode(1, node.Config{Slots: 2}))
	if out := buf.String(); !strings.Contains(out, "pebble:") || !strings.Contains(out, "node=1") {
		t.Fatalf("the core's storage log did not reach the runtime's logger:\n%s", out)
	}
}
