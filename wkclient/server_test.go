package wkclient

import (
	"bytes"
	"testing"

	"github.com/jindou-im/jindou/node/proto"
)

// counter is a deterministic random source: 1, 2, 3, ...
type counter struct{ b byte }

func (c *counter) Read(p []byte) (int, error) {
	for i := range p {
		c.b++
		p[i] = c.b
	}
	return len(p), nil
}

// server plays the server side of one connection with node/proto, as the
// gateway does: it reads what the client queued and makes frames for it.
type server struct {
	t    *testing.T
	dec  *proto.Decoder
	aes  *proto.Session
	v    uint8
	conn *proto.Connect
}

func newServer(t *testing.T) *server {
	return &server{t: t, dec: proto.NewDecoder(0)}
}

// read decodes the client's output, which must be whole frames.
func (s *server) read(out []byte) []proto.Packet {
	s.t.Helper()
	s.dec.Feed(out)
	var ps []proto.Packet
	for {
		p, err := s.dec.Next()
		if err != nil {
			s.t.Fatalf("server decoding client output: %v", err)
		}
		if p == nil {
			break
		}
		ps = append(ps, p)
	}
	if s.dec.Buffered() != 0 {
		s.t.Fatalf("client output ends in %d bytes of a partial frame", s.dec.Buffered())
	}
	return ps
}

// accept reads a CONNECT and returns the CONNACK frame of success at
// version answer (0: the negotiated one).
func (s *server) accept(out []byte, answer uint8) []byte {
	s.t.Helper()
	ps := s.read(out)
	if len(ps) != 1 {
		s.t.Fatalf("client wrote %d packets, want one CONNECT", len(ps))
	}
	c, ok := ps[0].(*proto.Connect)
	if !ok {
		s.t.Fatalf("client wrote %T, want CONNECT", ps[0])
	}
	s.conn = c
	s.v, _ = proto.NegotiateVersion(c.Version)
	if answer != 0 {
		s.v = answer
	}
	s.dec.SetVersion(s.v)
	aes, err := proto.NewServerSession(c.ClientKey, &counter{b: 200})
	if err != nil {
		s.t.Fatal(err)
	}
	s.aes = aes
	return s.frame(&proto.Connack{HasServerVersion: c.Version > 3, ServerVersion: s.v, ReasonCode: proto.ReasonSuccess,
		ServerKey: aes.ServerKey(), Salt: aes.Salt()})
}

func (s *server) frame(p proto.Packet) []byte {
	s.t.Helper()
	b, err := proto.AppendFrame(nil, p, s.v)
	if err != nil {
		s.t.Fatal(err)
	}
	return b
}

// recv seals text into a RECV for the client.
func (s *server) recv(flags proto.Flags, id int64, seq uint64, text string) *proto.Recv {
	r := &proto.Recv{Flags: flags, FromUID: "bob", ChannelID: "bob", ChannelType: proto.ChannelPerson,
		ClientMsgNo: "m", MessageID: id, MessageSeq: seq, Timestamp: 1718000000}
	s.aes.SealRecv(r, []byte(text))
	return r
}

// connected is a client session after a successful handshake at the
// version announced, and its server.
func connected(t *testing.T, version uint8) (*Session, *server) {
	t.Helper()
	c := NewSession(0)
	if err := c.Connect(Login{UID: "alice", DeviceID: "d1", Flag: proto.DeviceApp, Version: version, Timestamp: 7}, &counter{}); err != nil {
		t.Fatal(err)
	}
	srv := newServer(t)
	c.Feed(srv.accept(c.AppendOutput(nil), 0))
	ev := mustNext(t, c)
	if ack, ok := ev.(ConnackEvent); !ok || ack.Err != nil || !c.Ready() {
		t.Fatalf("after CONNACK: %#v, ready %v", ev, c.Ready())
	}
	return c, srv
}

func mustNext(t *testing.T, c *Session) Event {
	t.Helper()
	ev, err := c.Next()
	if err != nil || ev == nil {
		t.Fatalf("Next: %#v, %v; want an event", ev, err)
	}
	return ev
}

func noMore(t *testing.T, c *Session) {
	t.Helper()
	if ev, err := c.Next(); ev != nil || err != nil {
		t.Fatalf("Next: %#v, %v; want nothing more", ev, err)
	}
}

func sameBytes(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: % x, want % x", what, got, want)
	}
}
