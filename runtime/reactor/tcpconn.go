package reactor

import (
	"errors"
	"io"
	"os"
	"slices"
	"sync"

	"github.com/jindou-im/jindou/runtime"
	"golang.org/x/sys/unix"
)

// keepOutCap is the largest turn buffer a connection keeps between turns;
// bigger ones are released so that idle connections stay small.
const keepOutCap = 4 << 10

// tcpConn is a client connection on a non-blocking socket served by a
// poller. The owning loop writes into out during a turn and flushes at its
// end, straight to the socket when nothing is pending; what the socket
// refuses waits in backlog for the poller to continue it on EPOLLOUT.
//
// A WebSocket connection is the same socket after its upgrade, with ws set
// (ws.go): each Write is framed as one binary message, and what the poller
// reads is parsed into messages before it is posted.
type tcpConn struct {
	id   uint64
	info runtime.ConnInfo
	h    *Host
	loop *loop
	p    *poller
	fd   int
	// ws frames the connection as WebSocket; nil for plain TCP.
	ws *wsFramer

	// out is the output written this turn; loop-owned.
	out []byte
	// dirty: c is on the loop's dirty list; loop-owned.
	dirty bool
	// ended: Close was called or ConnClosed delivered, so Write is a
	// no-op; loop-owned.
	ended bool

	mu sync.Mutex
	// closed: the fd is closed and ConnClosed posted; nothing of c is
	// posted after. Guarded by mu, as is every field below.
	closed bool
	// polled: the fd is in p's epoll set.
	polled bool
	// backlog is output the socket refused, waiting for EPOLLOUT.
	backlog []byte
	// lingering: Close was asked while backlog was not empty (or, on
	// WebSocket, a close frame is queued behind it); c closes with
	// lingerErr once it drains or linger fires.
	lingering bool
	lingerErr error
	linger    *timerEntry
}

func (c *tcpConn) ID() uint64             { return c.id }
func (c *tcpConn) Info() runtime.ConnInfo { return c.info }

// Write appends a copy of b to the turn's output; on WebSocket, as one
// binary message.
func (c *tcpConn) Write(b []byte) {
	if c.ended || len(b) == 0 {
		return
	}
	if !c.dirty {
		c.dirty = true
		c.loop.dirty = append(c.loop.dirty, c)
	}
	if c.ws != nil {
		c.ws.appendHeader(&c.out, len(b))
	}
	c.out = append(c.out, b...)
}

// flush sends the turn's output; it runs at the end of the loop's turn.
func (c *tcpConn) flush() {
	c.dirty = false
	if len(c.out) == 0 {
		return
	}
	if !c.h.dead.Load() {
		c.mu.Lock()
		c.sendLocked(c.out)
		c.mu.Unlock()
	}
	if cap(c.out) > keepOutCap {
		c.out = nil
	} else {
		c.out = c.out[:0]
	}
}

// Close flushes the turn's output and closes c once the socket has taken
// all of it (or after Config.CloseLinger); on WebSocket a normal close frame
// follows the output. ConnClosed{Err: nil} follows.
func (c *tcpConn) Close() {
	if c.ended {
		return
	}
	c.flush()
	c.ended = true
	c.closeGracefully()
}

// closedByEvent runs on the loop before ConnClosed is handled.
func (c *tcpConn) closedByEvent() { c.ended = true }

func (c *tcpConn) closeGracefully() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.lingering {
		return
	}
	if c.ws != nil {
		c.sendLocked(wsNormalClose)
	}
	c.lingerLocked(nil)
}

// lingerLocked closes c with err once the backlog has drained, or after
// Config.CloseLinger; nothing more is sent or delivered meanwhile. A
// backlog of a quarter of MaxPendingOutput or more is not waited for: a
// client that far behind (the core cutting a slow reader) will not read it
// within the linger, and holding it would keep the memory the cut frees.
func (c *tcpConn) lingerLocked(err error) {
	if c.closed || c.lingering {
		return
	}
	if len(c.backlog) == 0 || len(c.backlog) >= c.h.cfg.MaxPendingOutput/4 {
		c.closeLocked(err)
		return
	}
	c.lingering = true
	c.lingerErr = err
	c.linger = &timerEntry{index: -1, fire: c.lingerExpired}
	c.h.timers.add(c.linger, c.h.timers.now()+c.h.cfg.CloseLinger)
}

// lingerExpired runs on the timer goroutine when the linger fires.
func (c *tcpConn) lingerExpired() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closeLocked(c.lingerErr)
}

func (c *tcpConn) closeNow(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closeLocked(err)
}

// sendLocked writes b, or queues it behind the backlog; a backlog over the
// limit closes c.
func (c *tcpConn) sendLocked(b []byte) {
	if c.closed || c.lingering {
		return
	}
	if len(c.backlog) == 0 {
		n, err := writeFD(c.fd, b)
		if err != nil {
			c.closeLocked(err)
			return
		}
		b = b[n:]
		if len(b) == 0 {
			return
		}
	}
	c.backlog = appendBacklog(c.backlog, b)
	total := c.h.stats.pendingOutput.Add(int64(len(b)))
	if err := c.h.outputVerdict(len(c.backlog), total); err != nil {
		c.closeLocked(err)
	}
}

// writable continues the backlog; it runs on the poller on EPOLLOUT.
func (c *tcpConn) writable() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || len(c.backlog) == 0 {
		return
	}
	n, err := writeFD(c.fd, c.backlog)
	if err != nil {
		c.closeLocked(err)
		return
	}
	rest := copy(c.backlog, c.backlog[n:])
	c.backlog = c.backlog[:rest]
	c.h.stats.pendingOutput.Add(-int64(n))
	if rest == 0 {
		c.backlog = nil
		if c.lingering {
			c.closeLocked(c.lingerErr)
		}
	}
}

// readable reads what the socket holds and posts it to the loop; it runs on
// the poller. It reports whether more may be left to read.
func (c *tcpConn) readable(buf []byte) (more bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for range maxReadsPerEvent {
		if c.closed {
			return false
		}
		n, err := readFD(c.fd, buf)
		switch {
		case errors.Is(err, unix.EAGAIN):
			return false
		case err != nil:
			c.closeLocked(err)
			return false
		case n == 0:
			c.closeLocked(io.EOF)
			return false
		case c.lingering:
			// The process closed c: what the client still sends is
			// read only to notice its close.
		case c.ws != nil:
			c.ws.feed(c, buf[:n])
		default:
			c.loop.post(item{ev: runtime.ConnData{Conn: c, Data: slices.Clone(buf[:n])}})
		}
	}
	return true
}

// closeLocked closes the fd and posts ConnClosed{Err: err}, once.
func (c *tcpConn) closeLocked(err error) {
	if c.closed {
		return
	}
	c.closed = true
	if c.linger != nil {
		c.h.timers.remove(c.linger)
	}
	if c.polled {
		c.p.remove(c)
	}
	if err == nil || c.ws != nil {
		// A WebSocket connection closes after a close frame, whatever
		// the error: let the client read it.
		c.drainInput()
	}
	unix.Close(c.fd)
	c.h.stats.pendingOutput.Add(-int64(len(c.backlog)))
	c.backlog = nil
	c.h.dropConn(c.id)
	c.loop.post(item{ev: runtime.ConnClosed{Conn: c, Err: err}, conn: c})
}

// drainInput reads and discards what the client sent and nobody will read,
// so that close sends FIN rather than RST (which could destroy output the
// client has not read yet). It reads at most maxDrainReads times
// drainBufSize bytes (64 KiB): enough for what a client sends before it
// notices the close, while a client that keeps sending cannot hold the
// closing goroutine.
func (c *tcpConn) drainInput() {
	var b [drainBufSize]byte
	for range maxDrainReads {
		if n, err := readFD(c.fd, b[:]); n <= 0 || err != nil {
			return
		}
	}
}

// drainBufSize and maxDrainReads bound drainInput.
const (
	drainBufSize  = 4 << 10
	maxDrainReads = 16
)

// readFD reads, retrying on EINTR.
func readFD(fd int, b []byte) (int, error) {
	for {
		n, err := unix.Read(fd, b)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil && !errors.Is(err, unix.EAGAIN) {
			return 0, os.NewSyscallError("read", err)
		}
		return n, err
	}
}

// writeFD writes as much of b as the socket takes; EAGAIN is not an error.
func writeFD(fd int, b []byte) (int, error) {
	done := 0
	for done < len(b) {
		n, err := unix.Write(fd, b[done:])
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EAGAIN):
			return done, nil
		case err != nil:
			return done, os.NewSyscallError("write", err)
		}
		done += n
	}
	return done, nil
}

// attachTCP adopts an accepted socket: it asks the process for the owning
// loop, posts ConnOpened, then puts the fd in a poller's epoll set.
func (h *Host) attachTCP(fd int, info runtime.ConnInfo) {
	h.attach(fd, info, nil, nil)
}

// attach adopts a non-blocking socket, framed as WebSocket when ws is set;
// early is input read before the socket was adopted (after a WebSocket
// handshake), parsed before the poller reads on. It posts ConnOpened, then
// puts the fd in a poller's epoll set.
func (h *Host) attach(fd int, info runtime.ConnInfo, ws *wsFramer, early []byte) {
	l := h.accept(info)
	if l == nil {
		unix.Close(fd)
		return
	}
	id := h.nextConnID.Add(1)
	p := h.pollers[int(h.nextPoller.Add(1))%len(h.pollers)]
	c := &tcpConn{id: id, info: info, h: h, loop: l, p: p, fd: fd, ws: ws}
	// Hold mu so that no close can post ConnClosed before ConnOpened.
	c.mu.Lock()
	defer c.mu.Unlock()
	if !h.addConn(id, c) {
		unix.Close(fd)
		return
	}
	l.post(item{ev: runtime.ConnOpened{Conn: c}})
	if ws != nil && len(early) > 0 {
		ws.feed(c, early)
		if c.closed {
			return
		}
	}
	if err := p.add(c); err != nil {
		c.closeLocked(err)
		return
	}
	c.polled = true
}
