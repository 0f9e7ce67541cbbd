package wkclient

import (
	"strings"
	"testing"

	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/runtime"
)

// fakeConn is a runtime.Conn that keeps what is written to it.
type fakeConn struct {
	id     uint64
	out    []byte
	closed bool
}

func (c *fakeConn) ID() uint64             { return c.id }
func (c *fakeConn) Info() runtime.ConnInfo { return runtime.ConnInfo{Listener: "tcp"} }
func (c *fakeConn) Write(b []byte)         { c.out = append(c.out, b...) }
func (c *fakeConn) Close()                 { c.closed = true }

// take returns and forgets what was written.
func (c *fakeConn) take() []byte {
	b := c.out
	c.out = nil
	return b
}

// actorWorld is a Client dialling fake connections, with a server per
// connection.
type actorWorld struct {
	t     *testing.T
	c     *Client
	conns []*fakeConn
}

func newActorWorld(t *testing.T) *actorWorld {
	w := &actorWorld{t: t, c: New("alice", "d1", proto.DeviceApp, 5, &counter{})}
	w.c.Attach(nil, func() runtime.Conn {
		fc := &fakeConn{id: uint64(len(w.conns) + 1)}
		w.conns = append(w.conns, fc)
		return fc
	})
	return w
}

// connect dials and plays the server's handshake.
func (w *actorWorld) connect() (*fakeConn, *server) {
	w.c.Connect()
	fc := w.conns[len(w.conns)-1]
	if len(fc.out) != 0 {
		w.t.Fatal("client wrote before its connection opened")
	}
	w.c.Handle(runtime.ConnOpened{Conn: fc})
	srv := newServer(w.t)
	w.c.Handle(runtime.ConnData{Conn: fc, Data: srv.accept(fc.take(), 0)})
	if !w.c.Ready || !w.c.Open {
		w.t.Fatalf("after CONNACK: ready %v, open %v, errors %v", w.c.Ready, w.c.Open, w.c.Errors)
	}
	return fc, srv
}

func TestActorSendsConnectWithTheReadersKeyWhenTheConnectionOpens(t *testing.T) {
	w := newActorWorld(t)
	w.c.Token = "tok"
	var acks []*proto.Connack
	w.c.OnConnack = func(a *proto.Connack) { acks = append(acks, a) }
	_, srv := w.connect()
	priv, _ := proto.NewPrivateKey(&counter{})
	want := proto.Connect{Version: 5, DeviceFlag: proto.DeviceApp, DeviceID: "d1", UID: "alice", Token: "tok",
		ClientTimestamp: 1, ClientKey: proto.EncodePublicKey(priv.PublicKey())}
	if *srv.conn != want || len(acks) != 1 {
		t.Fatalf("CONNECT %+v, want %+v; %d CONNACKs reported", srv.conn, want, len(acks))
	}
}

func TestActorAcksARecvBeforeWhatItsCallbackSends(t *testing.T) {
	w := newActorWorld(t)
	fc, srv := w.connect()
	var got string
	w.c.OnRecv = func(r *proto.Recv, plain []byte) {
		got = string(plain)
		w.c.Send(r.FromUID, proto.ChannelPerson, "reply", []byte("re: "+got), 0, nil)
	}
	w.c.Handle(runtime.ConnData{Conn: fc, Data: srv.frame(srv.recv(proto.FlagDup, 5, 1, "hello"))})
	ps := srv.read(fc.take())
	if got != "hello" || len(ps) != 2 {
		t.Fatalf("OnRecv got %q; client wrote %v", got, ps)
	}
	if ack, ok := ps[0].(*proto.Recvack); !ok || ack.MessageID != 5 || ack.Flags&proto.FlagDup != 0 {
		t.Fatalf("first frame %+v, want the RECVACK of 5 without DUP", ps[0])
	}
	send, ok := ps[1].(*proto.Send)
	if !ok {
		t.Fatalf("second frame %T, want the reply SEND", ps[1])
	}
	if plain, err := srv.aes.OpenSend(nil, send); err != nil || string(plain) != "re: hello" {
		t.Fatalf("reply opened as %q, %v", plain, err)
	}
}

func TestActorMatchesSendacksAndNumbersAcrossReconnects(t *testing.T) {
	w := newActorWorld(t)
	var acked []*Sent
	w.c.OnSendack = func(s *Sent, _ *proto.Sendack) { acked = append(acked, s) }
	fc, srv := w.connect()
	w.c.Send("bob", proto.ChannelPerson, "m1", []byte("one"), 0, "t1")
	w.c.Send("bob", proto.ChannelPerson, "m2", []byte("two"), 0, "t2")
	fc.take()
	w.c.Handle(runtime.ConnData{Conn: fc, Data: srv.frame(&proto.Sendack{ClientSeq: 1, ReasonCode: proto.ReasonSuccess})})
	if len(acked) != 1 || acked[0].Tag != "t1" || w.c.Inflight() != 1 || w.c.InflightSends()[0].ClientSeq != 2 {
		t.Fatalf("acked %+v, in flight %+v", acked, w.c.InflightSends())
	}
	w.c.Handle(runtime.ConnClosed{Conn: fc})
	if w.c.Ready || w.c.Open {
		t.Fatal("still ready after the close")
	}
	fc2, srv2 := w.connect()
	if w.c.Inflight() != 0 {
		t.Fatalf("a new connection inherited %d SENDs in flight", w.c.Inflight())
	}
	if s := w.c.Send("bob", proto.ChannelPerson, "m3", []byte("three"), 0, nil); s.ClientSeq != 3 {
		t.Fatalf("first SEND after reconnecting has client_seq %d, want 3", s.ClientSeq)
	}
	if p := srv2.read(fc2.take())[0].(*proto.Send); p.ClientSeq != 3 {
		t.Fatalf("SEND on the wire has client_seq %d", p.ClientSeq)
	}
}

func TestActorRecordsProblemsInErrors(t *testing.T) {
	w := newActorWorld(t)
	fc, srv := w.connect()
	r := srv.recv(0, 1, 1, "x")
	r.MsgKey = strings.Repeat("0", len(r.MsgKey))
	w.c.Handle(runtime.ConnData{Conn: fc, Data: srv.frame(&proto.Sendack{ClientSeq: 4})})
	w.c.Handle(runtime.ConnData{Conn: fc, Data: srv.frame(r)})
	w.c.Handle(runtime.ConnData{Conn: fc, Data: []byte{0xF0, 0x01, 0x00}})
	want := []string{"alice/d1: SENDACK for unknown client_seq 4", "alice/d1: RECV bob seq 1: ", "alice/d1: decode: "}
	if len(w.c.Errors) != len(want) {
		t.Fatalf("errors %q", w.c.Errors)
	}
	for i, e := range w.c.Errors {
		if !strings.HasPrefix(e, want[i]) {
			t.Fatalf("error %d is %q, want it to start %q", i, e, want[i])
		}
	}
	if !fc.closed || len(fc.out) != 0 {
		t.Fatalf("after a malformed frame: closed %v, wrote % x", fc.closed, fc.out)
	}
}

func TestActorCountsPongsAndIgnoresOtherConnections(t *testing.T) {
	w := newActorWorld(t)
	fc, srv := w.connect()
	w.c.Ping()
	sameBytes(t, "PING", fc.take(), []byte{0x70})
	other := &fakeConn{id: 99}
	w.c.Handle(runtime.ConnData{Conn: other, Data: srv.frame(&proto.Pong{})})
	w.c.Handle(runtime.ConnData{Conn: fc, Data: srv.frame(&proto.Pong{})})
	if w.c.Pongs != 1 {
		t.Fatalf("%d PONGs counted, want 1 (one arrived on another connection)", w.c.Pongs)
	}
}
