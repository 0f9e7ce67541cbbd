package reactor

import (
	"bufio"
	"cmp"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jindou-im/jindou/runtime"
)

// Peer handshake. Each side of a new peer connection sends a hello before
// any frame, the dialler first:
//
//	hello: "JDP2" | u64 from-node | u16 tokenLen | token | u16 cardLen | card
//
// The listener reads the dialler's hello and compares its token with the
// cluster token (crypto/subtle, constant time); on a mismatch it closes
// the connection without answering and without reading a frame. Otherwise
// it answers with its own hello, which the dialler checks the same way, so
// neither side sends a frame to, or accepts one from, a process that does
// not know the token. The card is opaque bytes the process hands the host
// (SetPeerAuth): jindou puts a node's client addresses in it, so every
// member learns every other member's.
const (
	helloMagic = "JDP2"
	// maxHelloField bounds the token and the card: a hostile hello cannot
	// make a reader allocate more.
	maxHelloField = 4 << 10
)

// Errors of a refused handshake.
var (
	errBadToken      = errors.New("wrong cluster token")
	errRefusedByPeer = errors.New("the peer closed the connection during the handshake (a wrong cluster token on either side, or the peer stopping)")
)

// SetPeerAuth sets the cluster token every peer connection must present,
// both ways, and card, called at each handshake, the bytes this node
// presents to its peers (PeerLinks shows theirs). Call it before Start.
func (h *Host) SetPeerAuth(token string, card func() []byte) {
	t := h.tr
	t.mu.Lock()
	defer t.mu.Unlock()
	t.token = []byte(token)
	t.card = card
}

// writeHello sends this node's hello on conn.
func (t *transport) writeHello(conn net.Conn) error {
	t.mu.Lock()
	token, cardFn := t.token, t.card
	t.mu.Unlock()
	var card []byte
	if cardFn != nil {
		card = cardFn()
	}
	if len(token) > maxHelloField || len(card) > maxHelloField {
		return fmt.Errorf("reactor: cluster token or peer card over %d bytes", maxHelloField)
	}
	b := make([]byte, 0, 16+len(token)+len(card))
	b = append(b, helloMagic...)
	b = binary.BigEndian.AppendUint64(b, uint64(t.h.cfg.NodeID))
	b = binary.BigEndian.AppendUint16(b, uint16(len(token)))
	b = append(b, token...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(card)))
	b = append(b, card...)
	_ = conn.SetWriteDeadline(time.Now().Add(peerHelloTimeout))
	defer conn.SetWriteDeadline(time.Time{})
	_, err := conn.Write(b)
	return err
}

// hello is a peer's hello, read.
type hello struct {
	from runtime.NodeID
	card []byte
}

// readHello reads and checks a peer's hello within peerHelloTimeout.
func (t *transport) readHello(conn net.Conn, r *bufio.Reader) (hello, error) {
	_ = conn.SetReadDeadline(time.Now().Add(peerHelloTimeout))
	defer conn.SetReadDeadline(time.Time{})
	var hd [12]byte
	if _, err := io.ReadFull(r, hd[:]); err != nil {
		return hello{}, err
	}
	if string(hd[:4]) != helloMagic {
		return hello{}, fmt.Errorf("bad magic %q", hd[:4])
	}
	hl := hello{from: runtime.NodeID(binary.BigEndian.Uint64(hd[4:]))}
	token, err := readHelloField(r)
	if err != nil {
		return hl, err
	}
	if hl.card, err = readHelloField(r); err != nil {
		return hl, err
	}
	t.mu.Lock()
	want := t.token
	t.mu.Unlock()
	if subtle.ConstantTimeCompare(token, want) != 1 {
		return hl, errBadToken
	}
	if hl.from == 0 || hl.from == t.h.cfg.NodeID {
		return hl, fmt.Errorf("the peer says it is node %d", hl.from)
	}
	return hl, nil
}

func readHelloField(r *bufio.Reader) ([]byte, error) {
	var n [2]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return nil, err
	}
	l := binary.BigEndian.Uint16(n[:])
	if l > maxHelloField {
		return nil, fmt.Errorf("hello field of %d bytes", l)
	}
	b := make([]byte, l)
	_, err := io.ReadFull(r, b)
	return b, err
}

// peerLinks tracks, per peer, its card and whether a handshake-checked
// connection to it is open either way; and the handshakes refused.
type peerLinks struct {
	mu sync.Mutex
	// by peer; guarded by mu.
	by map[runtime.NodeID]*peerLink
	// refusedLogged are the remote hosts whose refusal was logged since
	// their last good handshake (one line per episode); guarded by mu.
	refusedLogged map[string]bool
	// refused counts inbound handshakes refused (a wrong token or a
	// malformed hello); rejected outbound ones the peer refused.
	refused, rejected atomic.Int64
	// ups counts links that came up.
	ups atomic.Int64
}

type peerLink struct {
	card    []byte
	in      int  // inbound connections open
	out     bool // the outbound connection is up
	up      bool // in > 0 || out, at the last change
	changed time.Time
}

// PeerLink is one peer's link as PeerLinks reports it.
type PeerLink struct {
	Node runtime.NodeID
	// Up: a connection to or from the peer passed the handshake and is
	// open. Since is when Up last changed.
	Up    bool
	Since time.Time
	// Card is the bytes the peer presented in its last hello.
	Card []byte
}

// PeerStats are the transport's link figures.
type PeerStats struct {
	// Refused counts inbound handshakes refused (a wrong cluster token, a
	// malformed hello); Rejected outbound handshakes the peer refused;
	// LinkUps the times a peer's link came up.
	Refused, Rejected, LinkUps int64
	Links                      []PeerLink // by node id
}

// PeerStats returns every known peer's link, in node id order.
func (h *Host) PeerStats() PeerStats {
	pl := &h.tr.links
	out := PeerStats{Refused: pl.refused.Load(), Rejected: pl.rejected.Load(), LinkUps: pl.ups.Load()}
	known := map[runtime.NodeID]bool{}
	h.tr.mu.Lock()
	for id := range h.tr.addrs {
		known[id] = true
	}
	h.tr.mu.Unlock()
	pl.mu.Lock()
	for id := range pl.by {
		known[id] = true
	}
	for id := range known {
		l := pl.by[id]
		if l == nil {
			out.Links = append(out.Links, PeerLink{Node: id})
			continue
		}
		out.Links = append(out.Links, PeerLink{Node: id, Up: l.up, Since: l.changed, Card: slices.Clone(l.card)})
	}
	pl.mu.Unlock()
	slices.SortFunc(out.Links, func(a, b PeerLink) int { return cmp.Compare(a.Node, b.Node) })
	return out
}

// updateLink changes peer id's link (and its card, if not nil) and logs
// when the link goes up or down.
func (t *transport) updateLink(id runtime.NodeID, card []byte, change func(l *peerLink)) {
	pl := &t.links
	pl.mu.Lock()
	defer pl.mu.Unlock()
	if pl.by == nil {
		pl.by = map[runtime.NodeID]*peerLink{}
	}
	l := pl.by[id]
	if l == nil {
		l = &peerLink{}
		pl.by[id] = l
	}
	if card != nil {
		l.card = card
	}
	change(l)
	if up := l.in > 0 || l.out; up != l.up {
		l.up, l.changed = up, time.Now()
		if up {
			pl.ups.Add(1)
			t.h.log.Info("reactor: peer link up", "peer", uint64(id))
		} else {
			t.h.log.Info("reactor: peer link down", "peer", uint64(id))
		}
	}
}

// refusedHandshake counts a refused handshake and logs it once per episode
// of the remote host (until a handshake from or to it succeeds).
func (t *transport) refusedHandshake(remote string, inbound bool, err error) {
	pl := &t.links
	if inbound {
		pl.refused.Add(1)
	} else {
		pl.rejected.Add(1)
	}
	pl.mu.Lock()
	if pl.refusedLogged == nil {
		pl.refusedLogged = map[string]bool{}
	}
	logged := pl.refusedLogged[remote]
	pl.refusedLogged[remote] = true
	pl.mu.Unlock()
	if logged {
		return
	}
	if inbound {
		t.h.log.Warn("reactor: peer connection refused (logged once until it succeeds)", "remote", remote, "err", err)
	} else {
		t.h.log.Warn("reactor: peer refused this node's connection (logged once until it succeeds)", "remote", remote, "err", err)
	}
}

// goodHandshake ends remote's refusal episode.
func (t *transport) goodHandshake(remote string) {
	pl := &t.links
	pl.mu.Lock()
	delete(pl.refusedLogged, remote)
	pl.mu.Unlock()
}

// remoteHost is the host part of a connection's remote address (the port
// of an inbound connection changes at every dial).
func remoteHost(a net.Addr) string {
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

// closedByPeer: a read failed because the connection was closed or reset
// (not a timeout).
func closedByPeer(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && !op.Timeout()
}
