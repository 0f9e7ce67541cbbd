package wkclient

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jindou-im/jindou/node/proto"
)

func TestConnectCarriesTheLoginAndAKeyFromTheReader(t *testing.T) {
	l := Login{UID: "alice", DeviceID: "d1", Token: "tok", Flag: proto.DeviceWeb, Version: 6, Timestamp: 42}
	a, b := NewSession(0), NewSession(0)
	if err := a.Connect(l, &counter{}); err != nil {
		t.Fatal(err)
	}
	if err := b.Connect(l, &counter{}); err != nil {
		t.Fatal(err)
	}
	outA := a.AppendOutput(nil)
	sameBytes(t, "CONNECT from the same reader twice", b.AppendOutput(nil), outA)
	if a.Pending() != 0 {
		t.Fatalf("%d bytes pending after AppendOutput", a.Pending())
	}
	p, err := proto.DecodeFrame(outA, proto.MinVersion)
	if err != nil {
		t.Fatal(err)
	}
	priv, _ := proto.NewPrivateKey(&counter{})
	want := &proto.Connect{Version: 6, DeviceFlag: proto.DeviceWeb, DeviceID: "d1", UID: "alice", Token: "tok",
		ClientTimestamp: 42, ClientKey: proto.EncodePublicKey(priv.PublicKey())}
	if got := p.(*proto.Connect); *got != *want {
		t.Fatalf("CONNECT %+v, want %+v", got, want)
	}
}

func TestConnectRefusesAVersionBelowTheMinimum(t *testing.T) {
	s := NewSession(0)
	if err := s.Connect(Login{UID: "a", Version: proto.MinVersion - 1}, &counter{}); err == nil {
		t.Fatal("Connect at version 1 succeeded")
	}
	if s.Pending() != 0 {
		t.Fatalf("%d bytes queued by a refused Connect", s.Pending())
	}
}

func TestEditChangesTheConnectBeforeItIsQueued(t *testing.T) {
	s := NewSession(0)
	edit := func(p *proto.Connect) { p.Token = "edited" }
	if err := s.Connect(Login{UID: "a", Version: 5, Edit: edit}, &counter{}); err != nil {
		t.Fatal(err)
	}
	p, err := proto.DecodeFrame(s.AppendOutput(nil), proto.MinVersion)
	if err != nil || p.(*proto.Connect).Token != "edited" {
		t.Fatalf("CONNECT %+v, %v; want token edited", p, err)
	}
}

func TestHandshakeNegotiatesTheServersVersion(t *testing.T) {
	for _, tc := range []struct{ announce, answer, want uint8 }{
		{2, 0, 2}, {5, 0, 5}, {6, 0, 6}, {6, 4, 4}, {9, 0, proto.LatestVersion},
	} {
		c := NewSession(0)
		if c.Ready() || c.Version() != 0 {
			t.Fatalf("new session ready %v at version %d", c.Ready(), c.Version())
		}
		if err := c.Connect(Login{UID: "a", Version: tc.announce}, &counter{}); err != nil {
			t.Fatal(err)
		}
		srv := newServer(t)
		c.Feed(srv.accept(c.AppendOutput(nil), tc.answer))
		if ev := mustNext(t, c).(ConnackEvent); ev.Err != nil || !c.Ready() || c.Version() != tc.want {
			t.Fatalf("announce %d, answer %d: %+v, ready %v, version %d; want ready at %d",
				tc.announce, tc.answer, ev, c.Ready(), c.Version(), tc.want)
		}
		// Frames after CONNACK are read at the negotiated version: u64
		// seqs from version 6.
		seq := uint64(3)
		if tc.want >= 6 {
			seq = 1 << 33
		}
		c.Feed(srv.frame(srv.recv(0, 1, seq, "x")))
		if ev := mustNext(t, c).(RecvEvent); ev.Err != nil || string(ev.Plaintext) != "x" || ev.Recv.MessageSeq != seq {
			t.Fatalf("version %d: RECV %+v", tc.want, ev)
		}
	}
}

func TestServerVersionAboveTheAnnouncedOneIsAnError(t *testing.T) {
	c := NewSession(0)
	if err := c.Connect(Login{UID: "a", Version: 4}, &counter{}); err != nil {
		t.Fatal(err)
	}
	srv := newServer(t)
	srv.accept(c.AppendOutput(nil), 0)
	srv.v = 4
	c.Feed(srv.frame(&proto.Connack{HasServerVersion: true, ServerVersion: 5, ReasonCode: proto.ReasonSuccess,
		ServerKey: srv.aes.ServerKey(), Salt: srv.aes.Salt()}))
	if ev := mustNext(t, c).(ConnackEvent); ev.Err == nil || c.Ready() {
		t.Fatalf("CONNACK at 5 for a client at 4: %+v, ready %v", ev, c.Ready())
	}
}

func TestRefusedConnackLeavesTheSessionNotReady(t *testing.T) {
	c := NewSession(0)
	if err := c.Connect(Login{UID: "a", Version: 5}, &counter{}); err != nil {
		t.Fatal(err)
	}
	srv := newServer(t)
	srv.accept(c.AppendOutput(nil), 0)
	c.Feed(srv.frame(&proto.Connack{HasServerVersion: true, ServerVersion: 5, ReasonCode: proto.ReasonAuthFail}))
	ev := mustNext(t, c).(ConnackEvent)
	if ev.Err != nil || ev.Connack.ReasonCode != proto.ReasonAuthFail || c.Ready() {
		t.Fatalf("refused CONNACK: %+v, ready %v", ev, c.Ready())
	}
	if _, err := c.Send(&proto.Send{ChannelID: "b"}, []byte("x"), nil); !errors.Is(err, ErrNotReady) {
		t.Fatalf("Send after a refusal: %v, want ErrNotReady", err)
	}
}

func TestSendIsSealedForTheServerWithIncreasingClientSeqs(t *testing.T) {
	c, srv := connected(t, 5)
	for i, text := range []string{`{"type":1,"content":"hi"}`, "second"} {
		p := &proto.Send{Setting: proto.SettingReceipt, ClientMsgNo: fmt.Sprint("m", i), ChannelID: "bob", ChannelType: proto.ChannelPerson}
		sent, err := c.Send(p, []byte(text), i)
		if err != nil {
			t.Fatal(err)
		}
		ps := srv.read(c.AppendOutput(nil))
		got, ok := ps[0].(*proto.Send)
		if len(ps) != 1 || !ok {
			t.Fatalf("client wrote %v, want one SEND", ps)
		}
		plain, err := srv.aes.OpenSend(nil, got)
		if err != nil || string(plain) != text {
			t.Fatalf("server opened %q, %v; want %q", plain, err, text)
		}
		want := uint32(i + 1)
		if got.ClientSeq != want || sent.ClientSeq != want || c.LastSeq() != want || got.ChannelID != "bob" ||
			got.ClientMsgNo != p.ClientMsgNo || got.Setting != proto.SettingReceipt {
			t.Fatalf("SEND %+v, sent %+v; want client_seq %d", got, sent, want)
		}
	}
	if c.Inflight() != 2 {
		t.Fatalf("%d in flight, want 2", c.Inflight())
	}
}

func TestLastSeqCarriesTheNumberingIntoTheNextSession(t *testing.T) {
	c := NewSession(41)
	if err := c.Connect(Login{UID: "a", Version: 5}, &counter{}); err != nil {
		t.Fatal(err)
	}
	srv := newServer(t)
	c.Feed(srv.accept(c.AppendOutput(nil), 0))
	mustNext(t, c)
	sent, err := c.Send(&proto.Send{ChannelID: "b", ChannelType: proto.ChannelPerson}, []byte("x"), nil)
	if err != nil || sent.ClientSeq != 42 {
		t.Fatalf("first SEND of a session after 41: %+v, %v", sent, err)
	}
}

func TestSendackMatchesItsInflightSend(t *testing.T) {
	c, srv := connected(t, 5)
	for _, tag := range []string{"first", "second", "third"} {
		if _, err := c.Send(&proto.Send{ChannelID: "bob", ChannelType: proto.ChannelPerson}, []byte(tag), tag); err != nil {
			t.Fatal(err)
		}
	}
	c.AppendOutput(nil)
	c.Feed(srv.frame(&proto.Sendack{ClientSeq: 2, MessageID: 77, MessageSeq: 9, ReasonCode: proto.ReasonSuccess}))
	ev := mustNext(t, c).(SendackEvent)
	if ev.Err != nil || ev.Sent == nil || ev.Sent.ClientSeq != 2 || ev.Sent.Tag != "second" ||
		string(ev.Sent.Payload) != "second" || ev.Ack.MessageID != 77 {
		t.Fatalf("SENDACK for 2: %+v sent %+v", ev, ev.Sent)
	}
	left := c.InflightSends()
	if len(left) != 2 || left[0].ClientSeq != 1 || left[1].ClientSeq != 3 {
		t.Fatalf("in flight after the SENDACK of 2: %+v", left)
	}
}

func TestSendackForAnUnknownClientSeqIsAnError(t *testing.T) {
	c, srv := connected(t, 5)
	if _, err := c.Send(&proto.Send{ChannelID: "bob", ChannelType: proto.ChannelPerson}, []byte("x"), nil); err != nil {
		t.Fatal(err)
	}
	// 5 was never sent; 1 is answered twice.
	for _, seq := range []uint32{5, 1, 1} {
		c.Feed(srv.frame(&proto.Sendack{ClientSeq: seq, ReasonCode: proto.ReasonSuccess}))
	}
	want := []bool{true, false, true}
	for i, bad := range want {
		ev := mustNext(t, c).(SendackEvent)
		if got := errors.Is(ev.Err, ErrUnknownClientSeq); got != bad || (ev.Sent == nil) != bad {
			t.Fatalf("SENDACK %d: %+v; want unknown %v", i, ev, bad)
		}
	}
	if c.Inflight() != 0 {
		t.Fatalf("%d in flight", c.Inflight())
	}
}

func TestTrackedRawSendIsMatchedBySendack(t *testing.T) {
	c, srv := connected(t, 5)
	c.Track(900)
	c.Feed(srv.frame(&proto.Sendack{ClientSeq: 900, ReasonCode: proto.ReasonSuccess}))
	if ev := mustNext(t, c).(SendackEvent); ev.Err != nil || ev.Sent.ClientSeq != 900 {
		t.Fatalf("SENDACK of a tracked seq: %+v", ev)
	}
}

func TestRecvSealedByTheServerOpens(t *testing.T) {
	c, srv := connected(t, 6)
	text := `{"type":1,"content":"你好"}`
	c.Feed(srv.frame(srv.recv(0, 123, 4, text)))
	ev := mustNext(t, c).(RecvEvent)
	if ev.Err != nil || string(ev.Plaintext) != text || ev.Recv.MessageID != 123 || ev.Recv.MessageSeq != 4 {
		t.Fatalf("RECV %+v, plaintext %q", ev, ev.Plaintext)
	}
	again, err := c.Open(ev.Recv)
	if err != nil || string(again) != text {
		t.Fatalf("Open of the same RECV: %q, %v", again, err)
	}
}

func TestRecvWithABadMsgKeyIsAnErrorAndNotAcked(t *testing.T) {
	c, srv := connected(t, 5)
	c.AutoAck = true
	r := srv.recv(0, 1, 1, "hello")
	r.MsgKey = strings.Repeat("0", len(r.MsgKey))
	c.Feed(srv.frame(r))
	if ev := mustNext(t, c).(RecvEvent); !errors.Is(ev.Err, proto.ErrMsgKey) || ev.Plaintext != nil {
		t.Fatalf("RECV with a bad msg_key: %+v", ev)
	}
	if c.Pending() != 0 {
		t.Fatalf("a RECV that did not open was acked: %d bytes queued", c.Pending())
	}
}

func TestRecvBeforeConnackIsAnError(t *testing.T) {
	c := NewSession(0)
	if err := c.Connect(Login{UID: "a", Version: 5}, &counter{}); err != nil {
		t.Fatal(err)
	}
	srv := newServer(t)
	srv.accept(c.AppendOutput(nil), 0)
	c.Feed(srv.frame(srv.recv(0, 1, 1, "early")))
	if ev := mustNext(t, c).(RecvEvent); !errors.Is(ev.Err, ErrNotReady) {
		t.Fatalf("RECV before CONNACK: %+v", ev)
	}
}

func TestAutoAckQueuesRecvackWithoutDup(t *testing.T) {
	c, srv := connected(t, 5)
	c.AutoAck = true
	c.Feed(srv.frame(srv.recv(proto.FlagDup|proto.FlagRedDot, 55, 3, "again")))
	if ev := mustNext(t, c).(RecvEvent); ev.Err != nil {
		t.Fatal(ev.Err)
	}
	ps := srv.read(c.AppendOutput(nil))
	ack, ok := ps[0].(*proto.Recvack)
	if len(ps) != 1 || !ok {
		t.Fatalf("client wrote %v, want one RECVACK", ps)
	}
	if *ack != (proto.Recvack{Flags: proto.FlagRedDot, MessageID: 55, MessageSeq: 3}) {
		t.Fatalf("RECVACK %+v; want RedDot echoed, Dup cleared, id 55, seq 3", ack)
	}
}

func TestWithoutAutoAckNothingIsQueuedForARecv(t *testing.T) {
	c, srv := connected(t, 5)
	c.AutoAck = false
	c.Feed(srv.frame(srv.recv(0, 1, 1, "x")))
	if ev := mustNext(t, c).(RecvEvent); ev.Err != nil {
		t.Fatal(ev.Err)
	}
	if c.Pending() != 0 {
		t.Fatalf("%d bytes queued without auto-ack", c.Pending())
	}
}

func TestPingAndRawBytesAreQueuedInOrder(t *testing.T) {
	c, srv := connected(t, 5)
	if err := c.Ping(); err != nil {
		t.Fatal(err)
	}
	c.Raw([]byte{0x70})
	sameBytes(t, "PING then raw PING", c.AppendOutput(nil), []byte{0x70, 0x70})
	c.Feed(srv.frame(&proto.Pong{}))
	c.Feed(srv.frame(&proto.Disconnect{ReasonCode: proto.ReasonConnectKick, Reason: "bye"}))
	if _, ok := mustNext(t, c).(PongEvent); !ok {
		t.Fatal("PONG not a PongEvent")
	}
	if ev := mustNext(t, c).(DisconnectEvent); ev.Disconnect.Reason != "bye" {
		t.Fatalf("DISCONNECT %+v", ev.Disconnect)
	}
	noMore(t, c)
}

func TestMalformedInputIsAStickyError(t *testing.T) {
	c, _ := connected(t, 5)
	c.Feed([]byte{0xF0, 0x01, 0x00}) // type 15 does not exist
	if _, err := c.Next(); err == nil {
		t.Fatal("unknown packet type decoded")
	}
	if _, err := c.Next(); err == nil {
		t.Fatal("error did not stick")
	}
}

func TestUnexpectedPacketIsHandedOver(t *testing.T) {
	c, srv := connected(t, 5)
	c.Feed(srv.frame(&proto.Ping{}))
	if ev, ok := mustNext(t, c).(OtherEvent); !ok || ev.Packet.Type() != proto.TypePing {
		t.Fatalf("PING from the server: %#v", ev)
	}
}

// serverStream is every kind of frame a server sends, after a CONNACK.
func serverStream(t *testing.T) (connect []byte, stream []byte, prepare func(*Session)) {
	c := NewSession(0)
	if err := c.Connect(Login{UID: "a", Version: 5}, &counter{}); err != nil {
		t.Fatal(err)
	}
	connect = c.AppendOutput(nil)
	srv := newServer(t)
	stream = srv.accept(connect, 0)
	for _, p := range []proto.Packet{
		&proto.Sendack{ClientSeq: 1, MessageID: 9, MessageSeq: 1, ReasonCode: proto.ReasonSuccess},
		&proto.Sendack{ClientSeq: 8},
		srv.recv(proto.FlagDup, 10, 2, "one"),
		srv.recv(0, 11, 3, strings.Repeat("long ", 100)),
		&proto.Pong{},
		&proto.Disconnect{ReasonCode: proto.ReasonConnectKick, Reason: "bye"},
	} {
		stream = append(stream, srv.frame(p)...)
	}
	// The SEND that the first SENDACK answers is tracked before it arrives.
	return connect, stream, func(s *Session) { s.Track(1) }
}

// describe renders events (and the output they queue) as text, at once,
// before the next Feed invalidates their payloads.
func describe(ev Event, s *Session) string {
	switch e := ev.(type) {
	case RecvEvent:
		return fmt.Sprintf("recv %d %q %v out %x", e.Recv.MessageID, e.Plaintext, e.Err, s.AppendOutput(nil))
	case SendackEvent:
		return fmt.Sprintf("sendack %+v %v", *e.Ack, e.Err)
	case ConnackEvent:
		return fmt.Sprintf("connack %d %v", e.Connack.ReasonCode, e.Err)
	}
	return fmt.Sprintf("%T %+v", ev, Packet(ev))
}

func TestFragmentedInputGivesTheSameEvents(t *testing.T) {
	_, stream, prepare := serverStream(t)
	run := func(chunk int) []string {
		s := NewSession(0)
		s.AutoAck = true
		if err := s.Connect(Login{UID: "a", Version: 5}, &counter{}); err != nil {
			t.Fatal(err)
		}
		s.AppendOutput(nil)
		prepare(s)
		var got []string
		for i := 0; i < len(stream); i += chunk {
			s.Feed(stream[i:min(i+chunk, len(stream))])
			for {
				ev, err := s.Next()
				if err != nil {
					t.Fatalf("chunks of %d: %v", chunk, err)
				}
				if ev == nil {
					break
				}
				got = append(got, describe(ev, s))
			}
		}
		return got
	}
	whole := run(len(stream))
	if len(whole) != 7 {
		t.Fatalf("whole stream gave %d events, want 7:\n%s", len(whole), strings.Join(whole, "\n"))
	}
	for _, chunk := range []int{1, 2, 7} {
		if got := run(chunk); strings.Join(got, "\n") != strings.Join(whole, "\n") {
			t.Fatalf("chunks of %d:\n%s\nwhole:\n%s", chunk, strings.Join(got, "\n"), strings.Join(whole, "\n"))
		}
	}
}
