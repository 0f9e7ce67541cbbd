package reactor

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jindou-im/jindou/runtime"
)

// more asks a loop to write another chunk to c.
type more struct {
	c    runtime.Conn
	left int
}

func (more) Kind() string { return "more" }

// pattern is the byte at offset i of a blaster's output.
func pattern(i int) byte { return byte(i*7 + i/251) }

// blaster writes total bytes to each connection that sends anything, chunk
// bytes per Write and perTurn Writes per turn, then reports the connection
// on wrote; it reports each ConnClosed's error on closed.
func blaster(total, chunk, perTurn int) (*testProc, chan runtime.Conn, chan error) {
	wrote := make(chan runtime.Conn, 16)
	closed := make(chan error, 16)
	offsets := map[uint64]int{}
	p := &testProc{n: 1}
	p.on = func(p *testProc, _ int, ev runtime.Event) {
		switch e := ev.(type) {
		case runtime.ConnData:
			if _, started := offsets[e.Conn.ID()]; !started {
				offsets[e.Conn.ID()] = 0
				p.loops[0].Post(more{c: e.Conn, left: total})
			}
		case runtime.Posted:
			m := e.Msg.(more)
			off := offsets[m.c.ID()]
			for range perTurn {
				if m.left == 0 {
					break
				}
				n := min(chunk, m.left)
				b := make([]byte, n)
				for i := range b {
					b[i] = pattern(off + i)
				}
				m.c.Write(b)
				off += n
				m.left -= n
			}
			offsets[m.c.ID()] = off
			if m.left > 0 {
				p.loops[0].Post(m)
			} else {
				wrote <- m.c
			}
		case runtime.ConnClosed:
			closed <- e.Err
		}
	}
	return p, wrote, closed
}

func checkPattern(t *testing.T, got []byte, total int) {
	t.Helper()
	if len(got) != total {
		t.Fatalf("read %d bytes, want %d", len(got), total)
	}
	for i, b := range got {
		if b != pattern(i) {
			t.Fatalf("byte %d is %d, want %d", i, b, pattern(i))
		}
	}
}

// TestPartialWritesArriveWholeAndInOrder writes far more than the socket
// takes while the client does not read: the rest waits for EPOLLOUT and
// arrives in order once the client reads.
func TestPartialWritesArriveWholeAndInOrder(t *testing.T) {
	const total = 24 << 20
	cfg := testConfig(t)
	cfg.MaxPendingOutput = 64 << 20
	p, wrote, _ := blaster(total, 60<<10, 16)
	h := startHost(t, cfg, p)

	c := dialTCP(t, h)
	c.send("go")
	var sc runtime.Conn
	select {
	case sc = <-wrote:
	case <-time.After(testTimeout):
		t.Fatal("server never finished writing")
	}
	tc := sc.(*tcpConn)
	tc.mu.Lock()
	backlog := len(tc.backlog)
	tc.mu.Unlock()
	if backlog == 0 {
		t.Fatal("the socket took everything: no partial write was exercised")
	}
	_ = c.conn.SetReadDeadline(time.Now().Add(testTimeout))
	got, err := io.ReadAll(io.LimitReader(c.r, total))
	if err != nil {
		t.Fatal(err)
	}
	checkPattern(t, got, total)
}

// TestWebSocketWritesAreOneMessageEachInOrder: every Conn.Write on a
// WebSocket connection is one binary message, delivered in order even
// when the client reads late.
func TestWebSocketWritesAreOneMessageEachInOrder(t *testing.T) {
	const total, chunk = 8 << 20, 50000
	cfg := testConfig(t)
	cfg.MaxPendingOutput = 64 << 20
	p, wrote, _ := blaster(total, chunk, 16)
	h := startHost(t, cfg, p)

	c := dialWS(t, h)
	c.send("go")
	select {
	case <-wrote:
	case <-time.After(testTimeout):
		t.Fatal("server never finished writing")
	}
	var got []byte
	for len(got) < total {
		_ = c.conn.SetReadDeadline(time.Now().Add(testTimeout))
		typ, m, err := c.conn.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		if typ != websocket.BinaryMessage {
			t.Fatalf("message type %d", typ)
		}
		if want := min(chunk, total-len(got)); len(m) != want {
			t.Fatalf("message of %d bytes, want %d (one per Write)", len(m), want)
		}
		got = append(got, m...)
	}
	checkPattern(t, got, total)
}

// TestSlowReaderIsClosedOverTheLimit: a client that never reads is closed
// with ErrSlowReader once its pending output passes MaxPendingOutput.
func TestSlowReaderIsClosedOverTheLimit(t *testing.T) {
	for _, kind := range []string{"tcp", "ws"} {
		t.Run(kind, func(t *testing.T) {
			cfg := testConfig(t)
			cfg.MaxPendingOutput = 1 << 20
			p, _, closed := blaster(1<<30, 64<<10, 4)
			h := startHost(t, cfg, p)
			if kind == "tcp" {
				dialTCP(t, h).send("go")
			} else {
				dialWS(t, h).send("go")
			}
			select {
			case err := <-closed:
				if !errors.Is(err, ErrSlowReader) {
					t.Fatalf("closed with %v, want ErrSlowReader", err)
				}
			case <-time.After(testTimeout):
				t.Fatal("slow reader never closed")
			}
			if s := h.Stats(); s.SlowReaders != 1 || s.Open != 0 {
				t.Fatalf("stats %+v", s)
			}
		})
	}
}

// connLife records each connection's events and flags any out of order.
type connLife struct {
	mu                 sync.Mutex
	opened, closed     map[uint64]int
	violations         []string
	closedByServerErrs []error
}

func newConnLife() *connLife {
	return &connLife{opened: map[uint64]int{}, closed: map[uint64]int{}}
}

func (l *connLife) record(ev runtime.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch e := ev.(type) {
	case runtime.ConnOpened:
		id := e.Conn.ID()
		if l.opened[id] > 0 || l.closed[id] > 0 {
			l.violations = append(l.violations, fmt.Sprintf("conn %d opened again", id))
		}
		l.opened[id]++
	case runtime.ConnData:
		id := e.Conn.ID()
		if l.opened[id] != 1 || l.closed[id] != 0 {
			l.violations = append(l.violations, fmt.Sprintf("conn %d data outside its life", id))
		}
	case runtime.ConnClosed:
		id := e.Conn.ID()
		if l.opened[id] != 1 || l.closed[id] != 0 {
			l.violations = append(l.violations, fmt.Sprintf("conn %d closed twice or before opening", id))
		}
		l.closed[id]++
	}
}

func (l *connLife) count() (opened, closed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.opened), len(l.closed)
}

// echoProc echoes what it reads; "bye\n" is answered, then closed by the
// server. Every event is recorded in life.
func echoProc(loops int, life *connLife) *testProc {
	return &testProc{n: loops, on: func(_ *testProc, _ int, ev runtime.Event) {
		life.record(ev)
		if e, ok := ev.(runtime.ConnData); ok {
			e.Conn.Write(e.Data)
			if bytes.HasSuffix(e.Data, []byte("bye\n")) {
				e.Conn.Close()
			}
		}
	}}
}

// TestEveryConnectionIsOpenedAndClosedExactlyOnce runs 2,000 TCP and 200
// WebSocket connections through four loops; half are closed by the client,
// half by the server.
func TestEveryConnectionIsOpenedAndClosedExactlyOnce(t *testing.T) {
	const nTCP, nWS = 2000, 200
	life := newConnLife()
	h := startHost(t, testConfig(t), echoProc(4, life))

	var wg sync.WaitGroup
	work := make(chan int)
	errs := make(chan error, nTCP+nWS)
	for range 32 {
		wg.Go(func() {
			for i := range work {
				if err := exercise(h, i, i >= nTCP); err != nil {
					errs <- err
				}
			}
		})
	}
	for i := range nTCP + nWS {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	eventually(t, "every ConnClosed", func() bool {
		o, c := life.count()
		return o == nTCP+nWS && c == nTCP+nWS
	})
	life.mu.Lock()
	defer life.mu.Unlock()
	for _, v := range life.violations {
		t.Error(v)
	}
	if s := h.Stats(); s.Accepted != nTCP+nWS || s.Open != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// exercise is one client of TestEveryConnectionIsOpenedAndClosedExactlyOnce.
func exercise(h *Host, i int, ws bool) error {
	hello := fmt.Sprintf("hi %d\n", i)
	byServer := i%2 == 1
	if ws {
		conn, _, err := (&websocket.Dialer{HandshakeTimeout: testTimeout}).Dial("ws://"+h.WSAddr().String()+"/", nil)
		if err != nil {
			return err
		}
		defer conn.Close()
		_ = conn.SetReadDeadline(time.Now().Add(testTimeout))
		if err := conn.WriteMessage(websocket.BinaryMessage, []byte(hello)); err != nil {
			return err
		}
		if _, m, err := conn.ReadMessage(); err != nil || string(m) != hello {
			return fmt.Errorf("ws %d: echo %q, %v", i, m, err)
		}
		if !byServer {
			return nil
		}
		_ = conn.WriteMessage(websocket.BinaryMessage, []byte("bye\n"))
		if _, m, err := conn.ReadMessage(); err != nil || string(m) != "bye\n" {
			return fmt.Errorf("ws %d: bye %q, %v", i, m, err)
		}
		if _, _, err := conn.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
			return fmt.Errorf("ws %d: want close, got %v", i, err)
		}
		return nil
	}
	conn, err := net.DialTimeout("tcp", h.TCPAddr().String(), testTimeout)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(testTimeout))
	if _, err := io.WriteString(conn, hello); err != nil {
		return err
	}
	buf := make([]byte, len(hello))
	if _, err := io.ReadFull(conn, buf); err != nil || string(buf) != hello {
		return fmt.Errorf("tcp %d: echo %q, %v", i, buf, err)
	}
	if !byServer {
		return nil
	}
	_, _ = io.WriteString(conn, "bye\n")
	rest, err := io.ReadAll(conn)
	if err != nil || string(rest) != "bye\n" {
		return fmt.Errorf("tcp %d: bye %q, %v", i, rest, err)
	}
	return nil
}

// TestMisbehavingClientsAreClosedCleanly: a reset, a non-WebSocket request
// on the WebSocket port and an oversized message neither crash the host nor
// break the one-ConnClosed rule.
func TestMisbehavingClientsAreClosedCleanly(t *testing.T) {
	life := newConnLife()
	cfg := testConfig(t)
	cfg.MaxWSMessage = 1024
	h := startHost(t, cfg, echoProc(1, life))

	conn, err := net.Dial("tcp", h.TCPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	_, _ = conn.Write([]byte("unread\n"))
	_ = conn.(*net.TCPConn).SetLinger(0)
	conn.Close() // RST

	plain, err := net.Dial("tcp", h.WSAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(plain, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	_ = plain.SetReadDeadline(time.Now().Add(testTimeout))
	reply, _ := io.ReadAll(io.LimitReader(plain, 12))
	if !bytes.HasPrefix(reply, []byte("HTTP/1.1 400")) {
		t.Fatalf("plain HTTP on the WebSocket port got %q", reply)
	}
	plain.Close()

	ws := dialWS(t, h)
	ws.sendRaw(string(make([]byte, 4096)))
	_ = ws.conn.SetReadDeadline(time.Now().Add(testTimeout))
	if _, _, err := ws.conn.ReadMessage(); err == nil {
		t.Fatal("oversized message did not close the connection")
	}

	eventually(t, "both closed", func() bool { _, c := life.count(); return c == 2 })
	life.mu.Lock()
	for _, v := range life.violations {
		t.Error(v)
	}
	life.mu.Unlock()
	c := dialTCP(t, h)
	c.send("still alive")
	c.expect("still alive")
}
