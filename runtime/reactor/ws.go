package reactor

import (
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jindou-im/jindou/runtime"
)

// wsReadBuffer is a WebSocket connection's read buffer: small, because an
// idle connection keeps it (messages larger than it are still read whole).
const wsReadBuffer = 1024

// wsCloseTimeout bounds sending the close frame of a graceful close: the
// output before it has drained, so a client that cannot take a few bytes
// within a second is gone.
const wsCloseTimeout = time.Second

// wsHandshakeTimeout bounds reading the upgrade request's headers, so a
// client that connects and stalls does not hold a goroutine; a real
// client sends them at once.
const wsHandshakeTimeout = 10 * time.Second

// wsServer owns the WebSocket listener: an HTTP server that upgrades on any
// path. Each upgraded connection gets a reader goroutine of its own.
type wsServer struct {
	h        *Host
	ln       net.Listener
	srv      *http.Server
	upgrader websocket.Upgrader

	mu sync.Mutex
	// closing refuses new handlers, so that none is counted in the host's
	// WaitGroup after Stop starts waiting; guarded by mu.
	closing bool
}

func listenWS(h *Host, addr string) (*wsServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	w := &wsServer{h: h, ln: ln}
	w.upgrader = websocket.Upgrader{
		ReadBufferSize:  wsReadBuffer,
		WriteBufferPool: &sync.Pool{},
		CheckOrigin:     func(*http.Request) bool { return true },
	}
	w.srv = &http.Server{
		Handler:           w,
		ReadHeaderTimeout: wsHandshakeTimeout,
	}
	return w, nil
}

func (w *wsServer) serve() {
	w.h.wg.Add(1)
	go func() {
		defer w.h.wg.Done()
		_ = w.srv.Serve(w.ln)
	}()
}

// track counts a handler in the host's WaitGroup; false once closing.
func (w *wsServer) track() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closing {
		return false
	}
	w.h.wg.Add(1)
	return true
}

// close stops accepting: the listener and connections not yet upgraded are
// closed; upgraded ones are the host's to close.
func (w *wsServer) close() {
	w.mu.Lock()
	already := w.closing
	w.closing = true
	w.mu.Unlock()
	if !already {
		_ = w.srv.Close()
		_ = w.ln.Close() // Close misses it if Serve never ran
	}
}

// ServeHTTP upgrades the request, then reads the connection until it closes.
func (w *wsServer) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	if !w.track() {
		http.Error(rw, "stopping", http.StatusServiceUnavailable)
		return
	}
	defer w.h.wg.Done()
	ws, err := w.upgrader.Upgrade(rw, r, nil)
	if err != nil {
		return
	}
	c := w.h.attachWS(ws, runtime.ConnInfo{Listener: "ws", RemoteAddr: ws.RemoteAddr().String()})
	if c == nil {
		_ = ws.Close()
		return
	}
	// Read on a fresh goroutine and return, so that the HTTP server's
	// per-connection state and this goroutine's grown stack are freed:
	// it halves an idle connection's memory. The handler is still
	// counted, so this Add cannot race with Stop's Wait.
	w.h.wg.Add(1)
	go func() {
		defer w.h.wg.Done()
		c.readLoop()
	}()
}

// wsConn is a client connection over WebSocket. Each Write of a turn
// becomes one binary message. A writer goroutine exists only while messages
// are queued, so an idle connection costs its reader goroutine alone.
type wsConn struct {
	id   uint64
	info runtime.ConnInfo
	h    *Host
	loop *loop
	ws   *websocket.Conn

	// out are the messages written this turn; loop-owned, as are dirty
	// and ended (see tcpConn).
	out   [][]byte
	dirty bool
	ended bool

	mu sync.Mutex
	// closed: the socket is closed and ConnClosed posted. Guarded by mu,
	// as is every field below.
	closed bool
	// queue holds messages for the writer; pending counts the bytes
	// queued or being written.
	queue   [][]byte
	pending int
	// writing: a writer goroutine runs.
	writing bool
	// lingering: Close was asked; c closes once the queue drains (after a
	// close frame) or linger fires.
	lingering bool
	linger    *timerEntry
}

func (c *wsConn) ID() uint64             { return c.id }
func (c *wsConn) Info() runtime.ConnInfo { return c.info }

// Write queues a copy of b as one binary message.
func (c *wsConn) Write(b []byte) {
	if c.ended || len(b) == 0 {
		return
	}
	if !c.dirty {
		c.dirty = true
		c.loop.dirty = append(c.loop.dirty, c)
	}
	c.out = append(c.out, slices.Clone(b))
}

// flush hands the turn's messages to the writer.
func (c *wsConn) flush() {
	c.dirty = false
	if len(c.out) == 0 {
		return
	}
	if !c.h.dead.Load() {
		c.mu.Lock()
		c.sendLocked(c.out)
		c.mu.Unlock()
	}
	clear(c.out)
	c.out = c.out[:0]
}

// Close flushes, then closes with a close frame once everything is sent.
func (c *wsConn) Close() {
	if c.ended {
		return
	}
	c.flush()
	c.ended = true
	c.closeGracefully()
}

func (c *wsConn) closedByEvent() { c.ended = true }

func (c *wsConn) closeGracefully() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.lingering {
		return
	}
	c.lingering = true
	c.linger = &timerEntry{index: -1, fire: func() { c.closeNow(nil) }}
	c.h.timers.add(c.linger, c.h.timers.now()+c.h.cfg.CloseLinger)
	c.startWriterLocked()
}

func (c *wsConn) closeNow(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closeLocked(err)
}

func (c *wsConn) sendLocked(msgs [][]byte) {
	if c.closed || c.lingering {
		return
	}
	for _, m := range msgs {
		c.queue = append(c.queue, m)
		c.pending += len(m)
	}
	if c.pending > c.h.cfg.MaxPendingOutput {
		c.h.stats.slowReaders.Add(1)
		c.closeLocked(ErrSlowReader)
		return
	}
	c.startWriterLocked()
}

func (c *wsConn) startWriterLocked() {
	if c.writing {
		return
	}
	c.writing = true
	c.h.wg.Add(1)
	go c.writeLoop()
}

// writeLoop sends queued messages until the queue is empty, then exits; on
// a lingering connection it ends with a close frame.
func (c *wsConn) writeLoop() {
	defer c.h.wg.Done()
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return
		}
		batch := c.queue
		c.queue = nil
		if len(batch) == 0 {
			c.writing = false
			lingering := c.lingering
			c.mu.Unlock()
			if lingering {
				c.sayGoodbye()
			}
			return
		}
		c.mu.Unlock()
		for _, m := range batch {
			if err := c.ws.WriteMessage(websocket.BinaryMessage, m); err != nil {
				c.closeNow(err)
				return
			}
			c.mu.Lock()
			c.pending -= len(m)
			c.mu.Unlock()
		}
	}
}

// sayGoodbye sends a normal close frame, then closes.
func (c *wsConn) sayGoodbye() {
	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
	_ = c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(wsCloseTimeout))
	c.closeNow(nil)
}

// readLoop posts each inbound message's bytes as ConnData until the
// connection fails or closes.
func (c *wsConn) readLoop() {
	c.ws.SetReadLimit(c.h.cfg.MaxWSMessage)
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			c.closeNow(wsError(err))
			return
		}
		if len(data) == 0 {
			continue
		}
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return
		}
		if !c.lingering {
			c.loop.post(item{ev: runtime.ConnData{Conn: c, Data: data}})
		}
		c.mu.Unlock()
	}
}

// wsError maps a client's normal close to io.EOF.
func wsError(err error) error {
	if websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway, websocket.CloseNoStatusReceived) ||
		errors.Is(err, io.ErrUnexpectedEOF) {
		return io.EOF
	}
	return err
}

// closeLocked closes the socket and posts ConnClosed{Err: err}, once.
func (c *wsConn) closeLocked(err error) {
	if c.closed {
		return
	}
	c.closed = true
	if c.linger != nil {
		c.h.timers.remove(c.linger)
	}
	_ = c.ws.Close()
	c.queue = nil
	c.h.dropConn(c.id)
	c.loop.post(item{ev: runtime.ConnClosed{Conn: c, Err: err}, conn: c})
}

// attachWS adopts an upgraded connection: it asks the process for the
// owning loop and posts ConnOpened. nil: refused.
func (h *Host) attachWS(ws *websocket.Conn, info runtime.ConnInfo) *wsConn {
	l := h.accept(info)
	if l == nil {
		return nil
	}
	id := h.nextConnID.Add(1)
	c := &wsConn{id: id, info: info, h: h, loop: l, ws: ws}
	// Hold mu so that no close can post ConnClosed before ConnOpened.
	c.mu.Lock()
	defer c.mu.Unlock()
	if !h.addConn(id, c) {
		return nil
	}
	l.post(item{ev: runtime.ConnOpened{Conn: c}})
	return c
}
