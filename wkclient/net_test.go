package wkclient

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jindou-im/jindou/node/proto"
)

// echoServer plays a server over one transport with node/proto: it
// accepts the CONNECT (refusing the token "bad"), answers a SEND with
// SENDACK and a RECV (marked DUP) of "echo: "+plaintext, and returns the
// RECVACK it gets.
func echoServer(tr transport) (*proto.Recvack, error) {
	defer tr.close()
	dec := proto.NewDecoder(0)
	_ = tr.setReadDeadline(time.Now().Add(10 * time.Second))
	p, err := readPacket(tr, dec)
	if err != nil {
		return nil, err
	}
	connect, ok := p.(*proto.Connect)
	if !ok {
		return nil, fmt.Errorf("first packet %T", p)
	}
	v, _ := proto.NegotiateVersion(connect.Version)
	dec.SetVersion(v)
	if connect.Token == "bad" {
		return nil, writePacket(tr, &proto.Connack{ReasonCode: proto.ReasonAuthFail}, v)
	}
	aes, err := proto.NewServerSession(connect.ClientKey, rand.Reader)
	if err != nil {
		return nil, err
	}
	if err := writePacket(tr, &proto.Connack{HasServerVersion: v > 3, ServerVersion: v, ReasonCode: proto.ReasonSuccess,
		ServerKey: aes.ServerKey(), Salt: aes.Salt()}, v); err != nil {
		return nil, err
	}
	return echoOne(tr, dec, aes, v)
}

func echoOne(tr transport, dec *proto.Decoder, aes *proto.Session, v uint8) (*proto.Recvack, error) {
	p, err := readPacket(tr, dec)
	if err != nil {
		return nil, err
	}
	send, ok := p.(*proto.Send)
	if !ok {
		return nil, fmt.Errorf("expected SEND, got %T", p)
	}
	plain, err := aes.OpenSend(nil, send)
	if err != nil {
		return nil, err
	}
	if err := writePacket(tr, &proto.Sendack{ClientSeq: send.ClientSeq, MessageID: 1000, MessageSeq: 1, ReasonCode: proto.ReasonSuccess}, v); err != nil {
		return nil, err
	}
	r := &proto.Recv{Flags: proto.FlagDup, FromUID: "srv", ChannelID: "srv", ChannelType: proto.ChannelPerson, MessageID: 1001, MessageSeq: 2}
	aes.SealRecv(r, append([]byte("echo: "), plain...))
	if err := writePacket(tr, r, v); err != nil {
		return nil, err
	}
	p, err = readPacket(tr, dec)
	if err != nil {
		return nil, err
	}
	ack, ok := p.(*proto.Recvack)
	if !ok {
		return nil, fmt.Errorf("expected RECVACK, got %T", p)
	}
	return ack, nil
}

func readPacket(tr transport, dec *proto.Decoder) (proto.Packet, error) {
	for {
		p, err := dec.Next()
		if p != nil || err != nil {
			return p, err
		}
		b, err := tr.read()
		if err != nil {
			return nil, err
		}
		dec.Feed(b)
	}
}

func writePacket(tr transport, p proto.Packet, v uint8) error {
	b, err := proto.AppendFrame(nil, p, v)
	if err != nil {
		return err
	}
	return tr.write(b)
}

type served struct {
	ack *proto.Recvack
	err error
}

// tcpEchoServer serves one connection on a local port.
func tcpEchoServer(t *testing.T) (string, <-chan served) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	done := make(chan served, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- served{err: err}
			return
		}
		ack, err := echoServer(&tcpTransport{c: c, buf: make([]byte, 4096)})
		done <- served{ack, err}
	}()
	return ln.Addr().String(), done
}

// wsEchoServer serves WebSocket connections on a local HTTP server.
func wsEchoServer(t *testing.T) (string, <-chan served) {
	done := make(chan served, 1)
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			done <- served{err: err}
			return
		}
		ack, err := echoServer(&wsTransport{ws: ws})
		done <- served{ack, err}
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http"), done
}

// exchangeWithEcho sends one message on c and checks the SENDACK, the RECV
// and the RECVACK the server got.
func exchangeWithEcho(t *testing.T, c *NetClient, done <-chan served) {
	t.Helper()
	seq, err := c.Send("srv", proto.ChannelPerson, "", []byte("ping me"))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	p, err := c.Next(deadline)
	if ack, ok := p.(*proto.Sendack); err != nil || !ok || ack.ClientSeq != seq || seq != 1 {
		t.Fatalf("after SEND %d: %+v, %v; want its SENDACK", seq, p, err)
	}
	p, err = c.Next(deadline)
	r, ok := p.(*proto.Recv)
	if err != nil || !ok {
		t.Fatalf("waiting for RECV: %+v, %v", p, err)
	}
	if plain, err := c.Open(r); err != nil || string(plain) != "echo: ping me" {
		t.Fatalf("RECV opened as %q, %v", plain, err)
	}
	if err := c.Ack(r); err != nil {
		t.Fatal(err)
	}
	s := <-done
	if s.err != nil || s.ack.MessageID != 1001 || s.ack.MessageSeq != 2 || s.ack.Flags&proto.FlagDup != 0 {
		t.Fatalf("server got RECVACK %+v, %v; want id 1001, seq 2, no DUP", s.ack, s.err)
	}
	if _, err := c.Next(deadline); !errors.Is(err, ErrClosed) {
		t.Fatalf("after the server closed: %v, want ErrClosed", err)
	}
}

func TestNetClientOverTCPLogsInSendsAndAcks(t *testing.T) {
	addr, done := tcpEchoServer(t)
	c, err := DialTCP(addr, Options{UID: "alice", Version: 6})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Version() != 6 || c.Connack.ReasonCode != proto.ReasonSuccess {
		t.Fatalf("version %d, CONNACK %+v", c.Version(), c.Connack)
	}
	exchangeWithEcho(t, c, done)
}

func TestNetClientOverWebSocketLogsInSendsAndAcks(t *testing.T) {
	url, done := wsEchoServer(t)
	c, err := DialWS(url, Options{UID: "alice", DeviceFlag: proto.DeviceWeb})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Version() != 5 {
		t.Fatalf("default version %d, want 5", c.Version())
	}
	exchangeWithEcho(t, c, done)
}

func TestNetClientRefusedLoginIsAConnackError(t *testing.T) {
	addr, _ := tcpEchoServer(t)
	_, err := DialTCP(addr, Options{UID: "alice", Token: "bad"})
	var refused *ConnackError
	if !errors.As(err, &refused) || refused.Reason != proto.ReasonAuthFail {
		t.Fatalf("login with a bad token: %v; want ConnackError AuthFail", err)
	}
}
