package reactor

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/jindou-im/jindou/runtime"
)

// peerPair starts hosts 1 and 2 with peer listeners and the given tokens,
// each knowing the other's address; got receives "from->to data".
func peerPair(t *testing.T, tokenA, tokenB string) (a, b *Host, pa *testProc, got chan string) {
	t.Helper()
	got = make(chan string, 64)
	proc := func(id runtime.NodeID) *testProc {
		return &testProc{n: 1, on: func(p *testProc, _ int, ev runtime.Event) {
			switch e := ev.(type) {
			case runtime.PeerMsg:
				got <- fmt.Sprintf("%d->%d %s", e.From, id, e.Data)
			case runtime.Posted:
				p.env.Transport().Send(e.Msg.(pingTo).to, "l0", []byte(e.Msg.(pingTo).data))
			}
		}}
	}
	start := func(id runtime.NodeID, token string, p *testProc) *Host {
		cfg := testConfig(t)
		cfg.NodeID, cfg.PeerAddr = id, "127.0.0.1:0"
		h := New(cfg)
		h.SetPeerAuth(token, func() []byte { return []byte(fmt.Sprint("card of ", id)) })
		if err := h.Start(p); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(h.Stop)
		return h
	}
	pa = proc(1)
	a, b = start(1, tokenA, pa), start(2, tokenB, proc(2))
	a.SetPeer(2, b.PeerAddr().String())
	b.SetPeer(1, a.PeerAddr().String())
	return a, b, pa, got
}

func TestPeersWithTheClusterTokenExchangeMessagesAndCards(t *testing.T) {
	a, b, pa, got := peerPair(t, "s3cret", "s3cret")
	pa.loops[0].Post(pingTo{to: 2, data: "hi"})
	expectPeer(t, got, "1->2 hi")
	eventually(t, "both links up with the peer's card", func() bool {
		la, lb := a.PeerStats().Links, b.PeerStats().Links
		return len(la) == 1 && la[0].Up && string(la[0].Card) == "card of 2" &&
			len(lb) == 1 && lb[0].Up && string(lb[0].Card) == "card of 1"
	})
	if s := b.PeerStats(); s.Refused != 0 || s.LinkUps != 1 {
		t.Fatalf("a good handshake counted as refused: %+v", s)
	}
}

func TestPeerWithAWrongClusterTokenIsRefusedBeforeAnyMessage(t *testing.T) {
	a, b, pa, got := peerPair(t, "wrong", "s3cret")
	for range 5 {
		pa.loops[0].Post(pingTo{to: 2, data: "let me in"})
	}
	eventually(t, "the refusal counted on both sides", func() bool {
		return b.PeerStats().Refused >= 1 && a.PeerStats().Rejected >= 1
	})
	// A hand-made hello with the wrong token, followed at once by a frame.
	conn, err := net.Dial("tcp", b.PeerAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var msg bytes.Buffer
	msg.WriteString(helloMagic)
	msg.Write(binary.BigEndian.AppendUint64(nil, 7))
	msg.Write(binary.BigEndian.AppendUint16(nil, 5))
	msg.WriteString("guess")
	msg.Write([]byte{0, 0})
	msg.Write(encodeFrame("l0", []byte("smuggled")))
	if _, err := conn.Write(msg.Bytes()); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(testTimeout))
	if n, err := bufio.NewReader(conn).ReadByte(); err == nil {
		t.Fatalf("the listener answered a wrong token with %x", n)
	}
	select {
	case m := <-got:
		t.Fatalf("a message crossed a refused handshake: %q", m)
	case <-time.After(100 * time.Millisecond):
	}
	if s := b.Stats(); s.PeerReceived != 0 {
		t.Fatalf("the refusing host delivered %d peer messages", s.PeerReceived)
	}
	if l := b.PeerStats().Links; len(l) != 1 || l[0].Up {
		t.Fatalf("a refused peer's link is up: %+v", l)
	}
}

// pingTo asks a test loop to send data to node to.
type pingTo struct {
	to   runtime.NodeID
	data string
}

func (pingTo) Kind() string { return "pingTo" }
