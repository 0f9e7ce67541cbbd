package reactor

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/jindou-im/jindou/runtime"
)

// Node-to-node wire format. Both sides first exchange hellos (peer_auth.go:
// the node id, the cluster token, the card), then the dialler sends frames:
//
//	frame: u32 len | u16 loopNameLen | loopName | data   (len counts what follows it)
//
// All integers are big-endian.
const (
	// maxPeerFrame bounds a frame either way: it is what a reader may
	// allocate for one frame, so a corrupt or hostile length cannot make
	// it allocate more; 64 MiB leaves room for a raft message carrying
	// many entries of client frames (each at most max_frame_size).
	maxPeerFrame = 64 << 20
	// peerQueueLen is each peer's outbound queue, in frames. Send must
	// not block a loop, so a full queue drops (counted in PeerDropped);
	// raft retransmits what is lost. 4096 frames are 64 heartbeat rounds
	// of the default 64 slots, room for a burst while the connection is
	// re-dialled, and they bound what an unreachable peer pins in memory.
	peerQueueLen = 4096
	// peerDialTO bounds a dial; a peer that does not answer within a
	// second is treated as down, and retried after backoff.
	peerDialTO = time.Second
	// peerBackoffMin and peerBackoffMax bound the wait between dials of a
	// down peer, doubling from one to the other: a restarted node is
	// reached again within a few raft election timeouts (1 s by default),
	// and a long-dead one costs a dial every 2 s, not a spin.
	peerBackoffMin = 50 * time.Millisecond
	peerBackoffMax = 2 * time.Second
	// peerBufSize is the write and read buffer of a peer connection: it
	// gathers a burst of small raft messages into few syscalls.
	peerBufSize = 64 << 10
	// peerHelloTimeout bounds reading an inbound connection's hello, so a
	// stray client that connects and sends nothing does not hold a reader.
	peerHelloTimeout = 5 * time.Second
	// acceptRetryPause is how long a listener waits after a failed accept
	// (typically out of descriptors) before trying again, instead of
	// spinning on the error.
	acceptRetryPause = 50 * time.Millisecond
)

// transport is the runtime.Transport of a host: one outbound connection per
// peer, dialled lazily by its own goroutine with reconnect and backoff, and
// a listener whose connections are read by a goroutine each. Send never
// blocks: a message is dropped (and counted) when its peer is unknown or
// unreachable, or its queue is full.
type transport struct {
	h *Host

	mu sync.Mutex
	// addrs are the peers' addresses, out their outbound queues, in the
	// inbound connections, ln the listener; closed refuses new ones. All
	// guarded by mu.
	addrs  map[runtime.NodeID]string
	out    map[runtime.NodeID]*peerOut
	in     map[net.Conn]struct{}
	ln     net.Listener
	closed bool

	// token is the cluster token every peer must present; card makes the
	// bytes this node presents (SetPeerAuth). Guarded by mu.
	token []byte
	card  func() []byte
	// links are the peers' link states (peer_auth.go).
	links peerLinks

	// stop is closed when the transport closes.
	stop chan struct{}
}

func newTransport(h *Host, peers map[runtime.NodeID]string) *transport {
	t := &transport{
		h: h, addrs: map[runtime.NodeID]string{}, out: map[runtime.NodeID]*peerOut{},
		in: map[net.Conn]struct{}{}, stop: make(chan struct{}),
	}
	for id, a := range peers {
		t.addrs[id] = a
	}
	return t
}

func (t *transport) setPeer(id runtime.NodeID, addr string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.addrs[id] = addr
}

func (t *transport) peerAddr(id runtime.NodeID) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.addrs[id]
}

func (t *transport) addr() net.Addr {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ln == nil {
		return nil
	}
	return t.ln.Addr()
}

// Send queues data for loop on node to; a message to this node is posted
// directly.
func (t *transport) Send(to runtime.NodeID, loop string, data []byte) {
	h := t.h
	if h.dead.Load() {
		return
	}
	if to == h.cfg.NodeID {
		h.deliverPeer(to, loop, data)
		return
	}
	if len(loop) > 0xffff || 2+len(loop)+len(data) > maxPeerFrame {
		h.stats.peerDropped.Add(1)
		return
	}
	p := t.peer(to)
	if p == nil {
		h.stats.peerDropped.Add(1)
		return
	}
	select {
	case p.q <- encodeFrame(loop, data):
	default:
		h.stats.peerDropped.Add(1)
	}
}

func encodeFrame(loop string, data []byte) []byte {
	f := make([]byte, 6+len(loop)+len(data))
	binary.BigEndian.PutUint32(f, uint32(2+len(loop)+len(data)))
	binary.BigEndian.PutUint16(f[4:], uint16(len(loop)))
	copy(f[6:], loop)
	copy(f[6+len(loop):], data)
	return f
}

// peer returns the outbound queue of node id, starting its goroutine on
// first use; nil if the node's address is unknown or the transport closed.
func (t *transport) peer(id runtime.NodeID) *peerOut {
	t.mu.Lock()
	defer t.mu.Unlock()
	if p, ok := t.out[id]; ok {
		return p
	}
	if t.closed || t.addrs[id] == "" {
		return nil
	}
	p := &peerOut{t: t, id: id, q: make(chan []byte, peerQueueLen)}
	t.out[id] = p
	t.h.wg.Add(1)
	go p.run()
	return p
}

// peerOut is the outbound side of one peer.
type peerOut struct {
	t  *transport
	id runtime.NodeID
	q  chan []byte
}

// run keeps a connection to the peer and writes queued frames to it.
func (p *peerOut) run() {
	defer p.t.h.wg.Done()
	backoff := peerBackoffMin
	for {
		conn, err := p.dial()
		if err != nil {
			if !p.dropFor(backoff) {
				return
			}
			backoff = min(2*backoff, peerBackoffMax)
			continue
		}
		backoff = peerBackoffMin
		more := p.pump(conn)
		p.t.updateLink(p.id, nil, func(l *peerLink) { l.out = false })
		if !more {
			return
		}
	}
}

func (p *peerOut) dial() (net.Conn, error) {
	addr := p.t.peerAddr(p.id)
	if addr == "" {
		return nil, errors.New("no address")
	}
	d := net.Dialer{Timeout: peerDialTO}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	if err := p.t.writeHello(conn); err != nil {
		conn.Close()
		return nil, err
	}
	hl, err := p.t.readHello(conn, bufio.NewReaderSize(conn, 64))
	if err != nil {
		conn.Close()
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || closedByPeer(err) {
			err = errRefusedByPeer
		}
		p.t.refusedHandshake(addr, false, err)
		return nil, err
	}
	if hl.from != p.id {
		conn.Close()
		err := fmt.Errorf("%s answers as node %d, not %d", addr, hl.from, p.id)
		p.t.refusedHandshake(addr, false, err)
		return nil, err
	}
	p.t.goodHandshake(addr)
	p.t.updateLink(p.id, hl.card, func(l *peerLink) { l.out = true })
	return conn, nil
}

// dropFor waits d while the peer is unreachable, dropping what is sent
// meanwhile; false when the transport closes.
func (p *peerOut) dropFor(d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case <-p.t.stop:
			return false
		case <-p.q:
			p.t.h.stats.peerDropped.Add(1)
		case <-timer.C:
			return true
		}
	}
}

// pump writes frames until the connection fails (true: reconnect) or the
// transport closes (false).
func (p *peerOut) pump(conn net.Conn) bool {
	defer conn.Close()
	w := bufio.NewWriterSize(conn, peerBufSize)
	stats := &p.t.h.stats
	for {
		var f []byte
		select {
		case <-p.t.stop:
			return false
		case f = <-p.q:
		}
		n := int64(1)
		_, err := w.Write(f)
		for more := true; more && err == nil; {
			select {
			case f = <-p.q:
				n++
				_, err = w.Write(f)
			default:
				more = false
			}
		}
		if err == nil {
			err = w.Flush()
		}
		if err != nil {
			stats.peerDropped.Add(n)
			return true
		}
		stats.peerSent.Add(n)
	}
}

// listen binds the peer listener.
func (t *transport) listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	t.mu.Lock()
	t.ln = ln
	t.mu.Unlock()
	return nil
}

// serve starts accepting peer connections, if there is a listener.
func (t *transport) serve() {
	t.mu.Lock()
	ln := t.ln
	t.mu.Unlock()
	if ln == nil {
		return
	}
	t.h.wg.Add(1)
	go func() {
		defer t.h.wg.Done()
		for {
			conn, err := ln.Accept()
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if err != nil {
				t.h.log.Warn("reactor: peer accept failed; pausing", "err", err)
				time.Sleep(acceptRetryPause)
				continue
			}
			if !t.track(conn) {
				conn.Close()
				return
			}
			go t.readPeer(conn)
		}
	}()
}

// track registers an inbound connection and counts its reader.
func (t *transport) track(conn net.Conn) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	t.in[conn] = struct{}{}
	t.h.wg.Add(1)
	return true
}

// readPeer reads one inbound connection's frames and delivers them.
func (t *transport) readPeer(conn net.Conn) {
	defer t.h.wg.Done()
	defer func() {
		t.mu.Lock()
		delete(t.in, conn)
		t.mu.Unlock()
		conn.Close()
	}()
	r := bufio.NewReaderSize(conn, peerBufSize)
	hl, err := t.readHello(conn, r)
	if err == nil {
		err = t.writeHello(conn)
	}
	// One refusal episode per remote host and the node id it claims.
	remote := fmt.Sprintf("%s (says node %d)", remoteHost(conn.RemoteAddr()), hl.from)
	if err != nil {
		t.refusedHandshake(remote, true, err)
		return
	}
	t.goodHandshake(remote)
	from := hl.from
	t.updateLink(from, hl.card, func(l *peerLink) { l.in++ })
	defer t.updateLink(from, nil, func(l *peerLink) { l.in-- })
	for {
		loop, data, err := readFrame(r)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				t.h.log.Warn("reactor: peer connection failed", "from", uint64(from), "err", err)
			}
			return
		}
		t.h.deliverPeer(from, loop, data)
	}
}

func readFrame(r *bufio.Reader) (string, []byte, error) {
	var hdr [6]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return "", nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	nameLen := binary.BigEndian.Uint16(hdr[4:])
	if n < 2 || n > maxPeerFrame || uint32(nameLen) > n-2 {
		return "", nil, fmt.Errorf("bad frame header: len %d, name %d", n, nameLen)
	}
	body := make([]byte, n-2)
	if _, err := io.ReadFull(r, body); err != nil {
		return "", nil, err
	}
	return string(body[:nameLen]), body[nameLen:], nil
}

// close stops the listener, every outbound goroutine and inbound reader.
func (t *transport) close() {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return
	}
	t.closed = true
	if t.ln != nil {
		t.ln.Close()
	}
	for c := range t.in {
		c.Close()
	}
	t.mu.Unlock()
	close(t.stop)
}

// deliverPeer posts a peer message to the loop named name.
func (h *Host) deliverPeer(from runtime.NodeID, name string, data []byte) {
	if h.dead.Load() {
		return
	}
	l := h.loopNamed(name)
	if l == nil {
		h.stats.peerUnknownLoop.Add(1)
		return
	}
	h.stats.peerReceived.Add(1)
	l.post(item{ev: runtime.PeerMsg{From: from, Data: data}})
}
