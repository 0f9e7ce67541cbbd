package reactor

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gobwas/ws"
	"github.com/jindou-im/jindou/runtime"
	"golang.org/x/sys/unix"
)

// WebSocket connections: a listener whose accepted connections each get a
// short-lived goroutine for the handshake: it reads the upgrade request (any
// path) and github.com/gobwas/ws answers it; the socket is then taken out of
// Go's network poller and adopted by a reactor poller like an accepted TCP
// socket (tcpconn.go), with a wsFramer on it. Frames are read and written
// with gobwas/ws's framing (ReadHeaderBuffer, CheckHeader, Cipher,
// WriteHeaderBuffer) over the poller's non-blocking reads and the loop's
// per-turn output: no goroutine per connection once it is upgraded.

// wsHandshakeTimeout is Config.WSHandshakeTimeout's default: it bounds
// the handshake, so that a client that connects and stalls does not hold a
// goroutine; a real client sends its request at once.
const wsHandshakeTimeout = 10 * time.Second

// wsMaxRequest bounds the upgrade request's bytes (request line and
// headers); wsRequestBuffer is the first read's buffer.
const (
	wsMaxRequest    = 16 << 10
	wsRequestBuffer = 1 << 10
)

// wsPrealloc bounds the buffer allocated for a message before its bytes
// arrive: a client's declared length is not trusted further.
const wsPrealloc = 64 << 10

// Errors a WebSocket connection's ConnClosed may carry besides io.EOF (the
// client closed normally or went away) and the socket's errors; a frame that
// breaks RFC 6455 closes it with the ws.ProtocolError of gobwas/ws.
var (
	// ErrWSMessageTooBig: an inbound message over Config.MaxWSMessage.
	ErrWSMessageTooBig = errors.New("reactor: websocket message over the limit")
)

// WSCloseError is a client's close frame with a status other than normal
// closure or going away.
type WSCloseError struct {
	Code   int
	Reason string
}

func (e *WSCloseError) Error() string {
	return fmt.Sprintf("reactor: websocket closed by the client: %d %q", e.Code, e.Reason)
}

// wsNormalClose is the close frame of a graceful close; shared, read-only.
var wsNormalClose = wsCloseFrame(ws.StatusNormalClosure, "")

// wsCloseFrame compiles a close frame; code 0 has no body.
func wsCloseFrame(code ws.StatusCode, reason string) []byte {
	var body []byte
	if !code.Empty() {
		body = ws.NewCloseFrameBody(code, reason)
	}
	return ws.MustCompileFrame(ws.NewCloseFrame(body))
}

// wsServer owns the WebSocket listener: it accepts, runs each handshake on
// a goroutine of its own and hands each upgraded socket to a poller.
type wsServer struct {
	h        *Host
	ln       net.Listener
	upgrader ws.Upgrader

	mu sync.Mutex
	// closing refuses new handshakes, so that none is counted in the
	// host's WaitGroup after Stop starts waiting; guarded by mu.
	closing bool
	// shaking are the connections whose handshake is under way, closed by
	// close; guarded by mu.
	shaking map[net.Conn]struct{}
}

func listenWS(h *Host, addr string) (*wsServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return &wsServer{h: h, ln: ln, shaking: map[net.Conn]struct{}{}}, nil
}

func (w *wsServer) serve() {
	w.h.wg.Add(1)
	go func() {
		defer w.h.wg.Done()
		w.acceptLoop()
	}()
}

func (w *wsServer) acceptLoop() {
	for {
		conn, err := w.ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			w.acceptFailed(err) // fdcap.go
			continue
		}
		w.h.fdcap.accepted()
		if !w.track(conn) {
			_ = conn.Close()
			return
		}
		go func() {
			defer w.untrack(conn)
			w.handshake(conn)
		}()
	}
}

// track counts a handshake in the host's WaitGroup; false once closing.
func (w *wsServer) track(conn net.Conn) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closing {
		return false
	}
	w.shaking[conn] = struct{}{}
	w.h.wg.Add(1)
	return true
}

func (w *wsServer) untrack(conn net.Conn) {
	w.mu.Lock()
	delete(w.shaking, conn)
	w.mu.Unlock()
	w.h.wg.Done()
}

// close stops accepting: the listener and connections not yet upgraded are
// closed; upgraded ones are the host's to close.
func (w *wsServer) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closing {
		return
	}
	w.closing = true
	_ = w.ln.Close()
	for conn := range w.shaking {
		_ = conn.Close()
	}
}

// handshake answers the upgrade request on conn, then hands the socket to a
// poller; a refused request gets gobwas/ws's HTTP error answer.
func (w *wsServer) handshake(conn net.Conn) {
	_ = conn.SetDeadline(time.Now().Add(w.h.cfg.WSHandshakeTimeout))
	req, early, err := readUpgradeRequest(conn)
	if err != nil {
		_ = conn.Close()
		return
	}
	// gobwas/ws reads through a buffer of its own: give it the request's
	// bytes alone, so that frames sent right behind it stay in early.
	rw := struct {
		io.Reader
		io.Writer
	}{bytes.NewReader(req), conn}
	if _, err := w.upgrader.Upgrade(rw); err != nil {
		_ = conn.Close()
		return
	}
	info := runtime.ConnInfo{Listener: "ws", RemoteAddr: conn.RemoteAddr().String()}
	fd, err := detachFD(conn)
	if err != nil {
		if !errors.Is(err, net.ErrClosed) {
			w.h.log.Warn("reactor: websocket: cannot take the socket", "err", err)
		}
		return
	}
	w.h.attach(fd, info, &wsFramer{limit: w.h.cfg.MaxWSMessage}, early)
}

// readUpgradeRequest reads conn up to the end of the request's headers
// (at most wsMaxRequest bytes); early is what followed it in the reads.
func readUpgradeRequest(conn net.Conn) (req, early []byte, err error) {
	buf := make([]byte, 0, wsRequestBuffer)
	for {
		if len(buf) == cap(buf) {
			if len(buf) >= wsMaxRequest {
				return nil, nil, errors.New("reactor: websocket upgrade request too large")
			}
			buf = slices.Grow(buf, len(buf))
		}
		n, err := conn.Read(buf[len(buf):cap(buf)])
		// A header ends within the last read, or 3 bytes before it.
		from := max(len(buf)-3, 0)
		buf = buf[:len(buf)+n]
		if i := bytes.Index(buf[from:], []byte("\r\n\r\n")); i >= 0 {
			end := from + i + 4
			if end < len(buf) {
				early = bytes.Clone(buf[end:])
			}
			return buf[:end], early, nil
		}
		if err != nil {
			return nil, nil, err
		}
	}
}

// detachFD takes conn's socket out of Go's network poller: it duplicates
// the descriptor (non-blocking, close-on-exec) and closes conn, which
// releases the net.Conn and its poller registration but not the socket.
func detachFD(conn net.Conn) (int, error) {
	defer conn.Close()
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return -1, fmt.Errorf("%T has no file descriptor", conn)
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	var dupErr error
	if err := raw.Control(func(s uintptr) {
		fd, dupErr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return -1, err
	}
	if dupErr != nil {
		return -1, os.NewSyscallError("fcntl", dupErr)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return -1, os.NewSyscallError("fcntl", err)
	}
	return fd, nil
}

// wsFramer is the WebSocket state of a tcpConn: the parse of the client's
// frames, fed by the poller with what it reads (guarded by the conn's mu),
// and the header buffer of the loop's writes (loop-owned).
type wsFramer struct {
	// limit is Config.MaxWSMessage.
	limit int64

	// hdr holds the start of a frame header split across reads; hn bytes.
	hdr [ws.MaxHeaderSize]byte
	hn  int
	// scratch is ws.ReadHeaderBuffer's buffer and rd its reader, kept
	// here so that parsing a header allocates nothing.
	scratch [ws.MaxHeaderSize - 2]byte
	rd      bytes.Reader

	// frame is the header of the frame whose payload is being read (if
	// inFrame); pos counts the payload bytes read so far.
	frame   ws.Header
	inFrame bool
	pos     int64
	// msg is the data message being assembled across frames, op its first
	// frame's opcode (text or binary: the connection knows which each
	// message was); fragmented: a frame of it without
	// FIN has been read, so continuations are expected.
	msg        []byte
	op         ws.OpCode
	fragmented bool
	// ctrl is the payload of the control frame being read.
	ctrl []byte

	// whdr is the header buffer of Write; loop-owned.
	whdr [ws.MaxHeaderSize]byte
	// sawData: a data message was delivered (reader side, under c.mu).
	// text: the first one was a text message, so every message the
	// connection writes is text too (JSON-RPC clients, as WuKongIM answers
	// them); set before that message is posted, read by the loop.
	sawData bool
	text    atomic.Bool
}

// appendWriter is an io.Writer appending to a byte slice.
type appendWriter []byte

func (a *appendWriter) Write(p []byte) (int, error) {
	*a = append(*a, p...)
	return len(p), nil
}

// appendHeader appends the header of one final, unmasked frame of n bytes
// (a server's frames are not masked): binary, or text on a connection
// whose first message was text.
func (f *wsFramer) appendHeader(out *[]byte, n int) {
	op := ws.OpBinary
	if f.text.Load() {
		op = ws.OpText
	}
	h := ws.Header{Fin: true, OpCode: op, Length: int64(n)}
	_ = ws.WriteHeaderBuffer((*appendWriter)(out), h, f.whdr[:])
}

// feed parses data, read from c's socket, into messages posted as ConnData,
// answers control frames, and closes c on a bad frame. c.mu is held.
func (f *wsFramer) feed(c *tcpConn, data []byte) {
	for !c.closed && !c.lingering {
		if !f.inFrame {
			var ok bool
			if data, ok = f.readHeader(c, data); !ok {
				return
			}
		}
		if f.frame.OpCode.IsControl() {
			data = f.takePayload(&f.ctrl, data)
		} else {
			data = f.takePayload(&f.msg, data)
		}
		if f.pos < f.frame.Length {
			return // the rest of the payload is still to come
		}
		f.inFrame = false
		f.endFrame(c)
	}
}

// readHeader parses the next frame header from the partial header held
// and data, and checks it; ok is false when data ran out first or c was
// closed. It returns the rest of data.
func (f *wsFramer) readHeader(c *tcpConn, data []byte) (rest []byte, ok bool) {
	in := data
	held := f.hn
	if held > 0 {
		n := copy(f.hdr[held:], data)
		in = f.hdr[:held+n]
	}
	f.rd.Reset(in)
	h, err := ws.ReadHeaderBuffer(&f.rd, f.scratch[:])
	used := len(in) - f.rd.Len()
	f.rd.Reset(nil)
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		// An incomplete header: keep it for the next read.
		if held == 0 {
			f.hn = copy(f.hdr[:], data)
		} else {
			f.hn = len(in)
		}
		return nil, false
	}
	f.hn = 0
	data = data[used-held:]
	if err == nil {
		state := ws.StateServerSide
		if f.fragmented {
			state = state.Set(ws.StateFragmented)
		}
		err = ws.CheckHeader(h, state)
	}
	if err != nil {
		f.fail(c, ws.StatusProtocolError, err)
		return nil, false
	}
	if h.OpCode.IsData() && h.OpCode != ws.OpContinuation {
		f.op = h.OpCode
	}
	if !h.OpCode.IsControl() {
		if h.Length > f.limit-int64(len(f.msg)) {
			f.fail(c, ws.StatusMessageTooBig, ErrWSMessageTooBig)
			return nil, false
		}
		if f.msg == nil && h.Length > 0 {
			f.msg = make([]byte, 0, min(h.Length, wsPrealloc))
		}
		f.fragmented = !h.Fin
	}
	f.frame, f.inFrame, f.pos = h, true, 0
	return data, true
}

// takePayload appends the current frame's payload bytes in data to *dst,
// unmasked, and returns the rest of data.
func (f *wsFramer) takePayload(dst *[]byte, data []byte) []byte {
	n := int(min(int64(len(data)), f.frame.Length-f.pos))
	if n == 0 {
		return data
	}
	start := len(*dst)
	*dst = append(*dst, data[:n]...)
	ws.Cipher((*dst)[start:], f.frame.Mask, int(f.pos))
	f.pos += int64(n)
	return data[n:]
}

// endFrame acts on a frame read whole.
func (f *wsFramer) endFrame(c *tcpConn) {
	switch f.frame.OpCode {
	case ws.OpPing:
		c.sendLocked(ws.MustCompileFrame(ws.NewPongFrame(f.ctrl)))
		f.ctrl = nil
	case ws.OpPong:
		f.ctrl = nil
	case ws.OpClose:
		body := f.ctrl
		f.ctrl = nil
		f.clientClosed(c, body)
	default:
		if !f.frame.Fin {
			return
		}
		msg, op := f.msg, f.op
		f.msg, f.op = nil, 0
		f.message(c, op, msg)
	}
}

// message delivers a whole data message. Text messages are delivered as
// binary ones are: bytes of the client protocol either way (the core tells
// JSON-RPC from WKProto by the bytes). The first message's opcode decides
// the opcode of everything the connection writes.
func (f *wsFramer) message(c *tcpConn, op ws.OpCode, msg []byte) {
	if len(msg) == 0 {
		return
	}
	if !f.sawData {
		f.sawData = true
		f.text.Store(op == ws.OpText)
	}
	c.loop.post(item{ev: runtime.ConnData{Conn: c, Data: msg}})
}

// clientClosed answers a client's close frame with one of the same status,
// then closes c once it is sent.
func (f *wsFramer) clientClosed(c *tcpConn, body []byte) {
	if len(body) == 1 {
		f.fail(c, ws.StatusProtocolError, ws.ProtocolError("close frame with a one-byte body"))
		return
	}
	code, reason := ws.ParseCloseFrameData(body)
	if !code.Empty() {
		if err := ws.CheckCloseFrameData(code, reason); err != nil {
			f.fail(c, ws.StatusProtocolError, err)
			return
		}
	}
	var err error = io.EOF
	if !code.Empty() && code != ws.StatusNormalClosure && code != ws.StatusGoingAway {
		err = &WSCloseError{Code: int(code), Reason: reason}
	}
	c.sendLocked(wsCloseFrame(code, ""))
	c.lingerLocked(err)
}

// fail closes c with a close frame of code, ConnClosed carrying err.
func (f *wsFramer) fail(c *tcpConn, code ws.StatusCode, err error) {
	f.msg, f.ctrl = nil, nil
	c.sendLocked(wsCloseFrame(code, ""))
	c.lingerLocked(err)
}
