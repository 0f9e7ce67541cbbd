package e2e

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/wkclient"
)

func dialTCP(t *testing.T, p *proc, uid string) *wkclient.NetClient {
	t.Helper()
	c, err := wkclient.DialTCP(p.TCP, wkclient.Options{UID: uid, DeviceFlag: proto.DeviceApp})
	if err != nil {
		t.Fatalf("%s connecting over TCP: %v", uid, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// next returns the next packet of type T, skipping none: anything else
// fails the test.
func next[T proto.Packet](t *testing.T, c *wkclient.NetClient, what string) T {
	t.Helper()
	p, err := c.Next(time.Now().Add(10 * time.Second))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	v, ok := p.(T)
	if !ok {
		var zero T
		t.Fatalf("%s: got %T %+v, want %T", what, p, p, zero)
	}
	return v
}

// exchange: from sends text to its peer over a person channel; from gets
// SENDACK with seq, to gets the RECV, opens it and acknowledges it.
func exchange(t *testing.T, from, to *wkclient.NetClient, fromUID, toUID, text string, seq uint64) {
	t.Helper()
	cseq, err := from.Send(toUID, proto.ChannelPerson, "", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	ack := next[*proto.Sendack](t, from, fromUID+" waiting for SENDACK")
	if ack.ReasonCode != proto.ReasonSuccess || ack.ClientSeq != cseq || ack.MessageSeq != seq {
		t.Fatalf("SENDACK %+v; want success, client_seq %d, message_seq %d", ack, cseq, seq)
	}
	recv := next[*proto.Recv](t, to, toUID+" waiting for RECV")
	plain, err := to.Open(recv)
	if err != nil {
		t.Fatalf("RECV does not open: %v", err)
	}
	if string(plain) != text || recv.FromUID != fromUID || recv.ChannelID != fromUID ||
		recv.ChannelType != proto.ChannelPerson || recv.MessageSeq != seq || recv.MessageID != ack.MessageID {
		t.Fatalf("RECV %+v with %q; want %q from %s at seq %d, id %d", recv, plain, text, fromUID, seq, ack.MessageID)
	}
	if err := to.Ack(recv); err != nil {
		t.Fatal(err)
	}
}

// TestRawTCPClientsSendAndReceive: two Go clients of the binary protocol
// over TCP (protocol 5, encrypted) exchange messages both ways.
func TestRawTCPClientsSendAndReceive(t *testing.T) {
	p := startNode(t, nodeOpts{})
	a, b := dialTCP(t, p, "tcp-a"), dialTCP(t, p, "tcp-b")
	if a.Version() != 5 || a.Connack.ServerKey == "" || len(a.Connack.Salt) != proto.SaltLen {
		t.Fatalf("CONNACK %+v at version %d", a.Connack, a.Version())
	}
	exchange(t, a, b, "tcp-a", "tcp-b", `{"type":1,"content":"hello b"}`, 1)
	exchange(t, b, a, "tcp-b", "tcp-a", `{"type":1,"content":"hello a"}`, 2)
}

// TestTCPAndWebSocketClientsTalkAtVersion6: a TCP client and a WebSocket
// client, both at protocol 6 (u64 seqs), exchange messages.
func TestTCPAndWebSocketClientsTalkAtVersion6(t *testing.T) {
	p := startNode(t, nodeOpts{})
	a, err := wkclient.DialTCP(p.TCP, wkclient.Options{UID: "v6-a", Version: 6})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := wkclient.DialWS(p.WS, wkclient.Options{UID: "v6-b", Version: 6, DeviceFlag: proto.DeviceWeb})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if a.Version() != 6 || b.Version() != 6 {
		t.Fatalf("versions %d, %d; want 6", a.Version(), b.Version())
	}
	exchange(t, a, b, "v6-a", "v6-b", "over tcp", 1)
	exchange(t, b, a, "v6-b", "v6-a", "over ws", 2)
}

// TestPingGetsPong: PING is answered with the single byte PONG.
func TestPingGetsPong(t *testing.T) {
	p := startNode(t, nodeOpts{})
	c := dialTCP(t, p, "pinger")
	for range 3 {
		if err := c.Ping(); err != nil {
			t.Fatal(err)
		}
		next[*proto.Pong](t, c, "waiting for PONG")
	}
	// On the wire PONG is exactly 0x80.
	raw, err := net.Dial("tcp", p.TCP)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	priv, _ := proto.NewPrivateKey(bytes.NewReader(bytes.Repeat([]byte{7}, 64)))
	connect, _ := proto.AppendFrame(nil, &proto.Connect{Version: 5, UID: "raw-pinger", DeviceID: "d",
		ClientKey: proto.EncodePublicKey(priv.PublicKey())}, 5)
	if _, err := raw.Write(connect); err != nil {
		t.Fatal(err)
	}
	dec := proto.NewDecoder(0)
	dec.SetVersion(5)
	buf := make([]byte, 4096)
	_ = raw.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		n, err := raw.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		dec.Feed(buf[:n])
		if pk, _ := dec.Next(); pk != nil {
			break
		}
	}
	if _, err := raw.Write([]byte{0x70}); err != nil {
		t.Fatal(err)
	}
	n, err := io.ReadAtLeast(raw, buf, 1)
	if err != nil || !bytes.Equal(buf[:n], []byte{0x80}) {
		t.Fatalf("PONG on the wire: % x, %v; want 80", buf[:n], err)
	}
}

// TestMalformedFrameClosesOnlyThatConnection: a frame of an unknown type
// gets DISCONNECT and a close; other connections go on.
func TestMalformedFrameClosesOnlyThatConnection(t *testing.T) {
	p := startNode(t, nodeOpts{})
	bad := dialTCP(t, p, "mal-bad")
	a, b := dialTCP(t, p, "mal-a"), dialTCP(t, p, "mal-b")
	// Type 15 does not exist; body of one byte.
	if err := bad.WriteRaw([]byte{0xF0, 0x01, 0x00}); err != nil {
		t.Fatal(err)
	}
	d := next[*proto.Disconnect](t, bad, "malformed frame")
	t.Logf("DISCONNECT reason %d %q", d.ReasonCode, d.Reason)
	if _, err := bad.Next(time.Now().Add(10 * time.Second)); !errors.Is(err, io.EOF) {
		t.Fatalf("after DISCONNECT: %v; want the connection closed (EOF)", err)
	}
	exchange(t, a, b, "mal-a", "mal-b", "still here", 1)
	if err := b.Ping(); err != nil {
		t.Fatal(err)
	}
	next[*proto.Pong](t, b, "PONG after another connection's malformed frame")
	// A new connection by the same user is fine too.
	again := dialTCP(t, p, "mal-bad")
	exchange(t, again, a, "mal-bad", "mal-a", "back again", 1)
}
