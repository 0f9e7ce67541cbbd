package reactor

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	goruntime "runtime"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/jindou-im/jindou/runtime"
)

// rawWS is a WebSocket client that writes frames as given (masked or not,
// fragmented, malformed) and reads the server's frames one by one.
type rawWS struct {
	t    *testing.T
	conn net.Conn
	r    io.Reader
}

func dialRawWS(t *testing.T, h *Host) *rawWS {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	conn, br, _, err := ws.Dialer{}.Dial(ctx, "ws://"+h.WSAddr().String()+"/")
	if err != nil {
		t.Fatalf("ws dial: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &rawWS{t: t, conn: conn, r: conn}
	if br != nil {
		c.r = br
	}
	return c
}

// frame is a frame from the client: masked unless told otherwise.
func clientFrame(op ws.OpCode, fin bool, payload string) ws.Frame {
	return ws.MaskFrame(ws.NewFrame(op, fin, []byte(payload)))
}

func (c *rawWS) write(frames ...ws.Frame) {
	c.t.Helper()
	var b bytes.Buffer
	for _, f := range frames {
		if err := ws.WriteFrame(&b, f); err != nil {
			c.t.Fatal(err)
		}
	}
	c.writeBytes(b.Bytes())
}

func (c *rawWS) writeBytes(b []byte) {
	c.t.Helper()
	if _, err := c.conn.Write(b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// read reads one frame from the server; it must not be masked.
func (c *rawWS) read() ws.Frame {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(testTimeout))
	h, err := ws.ReadHeader(c.r)
	if err != nil {
		c.t.Fatalf("read header: %v", err)
	}
	if h.Masked {
		c.t.Fatal("the server masked a frame")
	}
	p := make([]byte, h.Length)
	if _, err := io.ReadFull(c.r, p); err != nil {
		c.t.Fatalf("read payload: %v", err)
	}
	return ws.Frame{Header: h, Payload: p}
}

// expectMessage reads one final binary frame holding want.
func (c *rawWS) expectMessage(want string) {
	c.t.Helper()
	f := c.read()
	if f.Header.OpCode != ws.OpBinary || !f.Header.Fin || string(f.Payload) != want {
		c.t.Fatalf("got frame op %d fin %v %q, want one binary message %q", f.Header.OpCode, f.Header.Fin, f.Payload, want)
	}
}

// expectClose reads a close frame with code, then the end of the stream.
func (c *rawWS) expectClose(code ws.StatusCode) {
	c.t.Helper()
	f := c.read()
	if f.Header.OpCode != ws.OpClose {
		c.t.Fatalf("got frame op %d %q, want close %d", f.Header.OpCode, f.Payload, code)
	}
	if got, _ := ws.ParseCloseFrameData(f.Payload); got != code {
		c.t.Fatalf("close code %d, want %d", got, code)
	}
	_ = c.conn.SetReadDeadline(time.Now().Add(testTimeout))
	if rest, err := io.ReadAll(c.r); (err != nil && !isReset(err)) || len(rest) > 0 {
		c.t.Fatalf("after the close frame: %q, %v; want the end of the stream", rest, err)
	}
}

// wsEchoProc echoes every message and reports each ConnClosed's error.
func wsEchoProc() (*testProc, chan error) {
	closed := make(chan error, 16)
	return &testProc{n: 1, on: func(_ *testProc, _ int, ev runtime.Event) {
		switch e := ev.(type) {
		case runtime.ConnData:
			e.Conn.Write(e.Data)
		case runtime.ConnClosed:
			select {
			case closed <- e.Err:
			default: // the test looks at the first few only
			}
		}
	}}, closed
}

func expectClosedWith(t *testing.T, closed chan error, ok func(error) bool, want string) {
	t.Helper()
	select {
	case err := <-closed:
		if !ok(err) {
			t.Fatalf("ConnClosed with %v, want %s", err, want)
		}
	case <-time.After(testTimeout):
		t.Fatal("no ConnClosed")
	}
}

// TestWSFragmentedMessageIsDeliveredWhole: a message in three frames, with
// a ping between two of them, is one ConnData; the ping is answered in
// between.
func TestWSFragmentedMessageIsDeliveredWhole(t *testing.T) {
	p, _ := wsEchoProc()
	h := startHost(t, testConfig(t), p)
	c := dialRawWS(t, h)
	c.write(clientFrame(ws.OpBinary, false, "hel"), clientFrame(ws.OpPing, true, "mid"))
	if f := c.read(); f.Header.OpCode != ws.OpPong || string(f.Payload) != "mid" {
		t.Fatalf("got op %d %q, want pong %q", f.Header.OpCode, f.Payload, "mid")
	}
	c.write(clientFrame(ws.OpContinuation, false, "lo "), clientFrame(ws.OpContinuation, true, "world"))
	c.expectMessage("hello world")
	c.write(clientFrame(ws.OpBinary, true, "next"))
	c.expectMessage("next")
}

// TestWSFramesSplitAtEveryByteAreParsed: frames written one byte at a time
// (headers and payloads split across reads) arrive whole, as do frames of
// each header size (7-bit, 16-bit and 64-bit lengths).
func TestWSFramesSplitAtEveryByteAreParsed(t *testing.T) {
	p, _ := wsEchoProc()
	cfg := testConfig(t)
	cfg.MaxWSMessage = 1 << 20
	h := startHost(t, cfg, p)
	c := dialRawWS(t, h)
	var b bytes.Buffer
	_ = ws.WriteFrame(&b, clientFrame(ws.OpBinary, false, "split "))
	_ = ws.WriteFrame(&b, clientFrame(ws.OpContinuation, true, "bytes"))
	for _, x := range b.Bytes() {
		c.writeBytes([]byte{x})
	}
	c.expectMessage("split bytes")
	for _, n := range []int{125, 126, 65535, 65536, 300000} {
		want := string(bytes.Repeat([]byte{'x'}, n))
		c.write(clientFrame(ws.OpBinary, true, want))
		c.expectMessage(want)
	}
}

// TestWSHandshakeAndFirstFrameInOneWriteAreBothRead: a frame the client
// sends right behind its upgrade request, before the answer, is not lost
// in the HTTP server's buffer.
func TestWSHandshakeAndFirstFrameInOneWriteAreBothRead(t *testing.T) {
	p, _ := wsEchoProc()
	h := startHost(t, testConfig(t), p)
	conn, err := net.DialTimeout("tcp", h.WSAddr().String(), testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	var b bytes.Buffer
	fmt.Fprintf(&b, "GET / HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", h.WSAddr())
	_ = ws.WriteFrame(&b, clientFrame(ws.OpBinary, true, "eager"))
	if _, err := conn.Write(b.Bytes()); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	_ = conn.SetReadDeadline(time.Now().Add(testTimeout))
	status, err := br.ReadString('\n')
	if err != nil || status != "HTTP/1.1 101 Switching Protocols\r\n" {
		t.Fatalf("status %q, %v", status, err)
	}
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line == "\r\n" {
			break
		}
	}
	(&rawWS{t: t, conn: conn, r: br}).expectMessage("eager")
}

// TestWSPingIsAnsweredWithPongOfSamePayload, also between messages that
// carry data.
func TestWSPingIsAnsweredWithPongOfSamePayload(t *testing.T) {
	p, _ := wsEchoProc()
	h := startHost(t, testConfig(t), p)
	c := dialRawWS(t, h)
	for _, payload := range []string{"", "ping 1", string(bytes.Repeat([]byte{'p'}, 125))} {
		c.write(clientFrame(ws.OpPing, true, payload))
		f := c.read()
		if f.Header.OpCode != ws.OpPong || !f.Header.Fin || string(f.Payload) != payload {
			t.Fatalf("got op %d %q, want pong %q", f.Header.OpCode, f.Payload, payload)
		}
	}
	c.write(clientFrame(ws.OpPong, true, "unsolicited"), clientFrame(ws.OpBinary, true, "data"))
	c.expectMessage("data")
}

// TestWSClientCloseIsAnsweredThenClosed: the client's close frame gets a
// close frame with its status back, then the end of the stream; ConnClosed
// carries io.EOF for a normal close and WSCloseError otherwise.
func TestWSClientCloseIsAnsweredThenClosed(t *testing.T) {
	for _, tc := range []struct {
		name string
		body []byte
		code ws.StatusCode
		ok   func(error) bool
	}{
		{"normal", ws.NewCloseFrameBody(ws.StatusNormalClosure, "bye"), ws.StatusNormalClosure, func(err error) bool { return err == io.EOF }},
		{"going-away", ws.NewCloseFrameBody(ws.StatusGoingAway, ""), ws.StatusGoingAway, func(err error) bool { return err == io.EOF }},
		{"no-status", nil, 0, func(err error) bool { return err == io.EOF }},
		{"app-code", ws.NewCloseFrameBody(4001, "mine"), 4001, func(err error) bool {
			var ce *WSCloseError
			return errors.As(err, &ce) && ce.Code == 4001 && ce.Reason == "mine"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, closed := wsEchoProc()
			h := startHost(t, testConfig(t), p)
			c := dialRawWS(t, h)
			c.write(clientFrame(ws.OpBinary, true, "last"))
			c.expectMessage("last")
			c.write(ws.MaskFrame(ws.NewCloseFrame(tc.body)))
			c.expectClose(tc.code)
			expectClosedWith(t, closed, tc.ok, "the close's status")
		})
	}
}

// TestWSServerCloseSendsOutputThenNormalClose: what the process wrote
// before Close arrives, then a normal close frame, then the end of the
// stream.
func TestWSServerCloseSendsOutputThenNormalClose(t *testing.T) {
	closed := make(chan error, 1)
	p := &testProc{n: 1, on: func(_ *testProc, _ int, ev runtime.Event) {
		switch e := ev.(type) {
		case runtime.ConnData:
			e.Conn.Write([]byte("goodbye"))
			e.Conn.Close()
			e.Conn.Write([]byte("after close"))
		case runtime.ConnClosed:
			closed <- e.Err
		}
	}}
	h := startHost(t, testConfig(t), p)
	c := dialRawWS(t, h)
	c.write(clientFrame(ws.OpBinary, true, "hi"))
	c.expectMessage("goodbye")
	c.expectClose(ws.StatusNormalClosure)
	expectClosedWith(t, closed, func(err error) bool { return err == nil }, "nil")
}

// TestWSBadFramesAreRefusedWithProtocolError: each frame RFC 6455 forbids
// a client to send gets a close frame with 1002 and closes that connection
// alone, ConnClosed carrying a ws.ProtocolError.
func TestWSBadFramesAreRefusedWithProtocolError(t *testing.T) {
	unmasked := ws.NewBinaryFrame([]byte("bare"))
	rsv := clientFrame(ws.OpBinary, true, "rsv")
	rsv.Header.Rsv = ws.Rsv(true, false, false)
	reserved := clientFrame(ws.OpCode(3), true, "op3")
	bigPing := clientFrame(ws.OpPing, true, string(make([]byte, 126)))
	for _, tc := range []struct {
		name   string
		frames []ws.Frame
	}{
		{"unmasked", []ws.Frame{unmasked}},
		{"rsv-bits", []ws.Frame{rsv}},
		{"reserved-opcode", []ws.Frame{reserved}},
		{"continuation-first", []ws.Frame{clientFrame(ws.OpContinuation, true, "x")}},
		{"new-message-inside-fragmented", []ws.Frame{clientFrame(ws.OpBinary, false, "a"), clientFrame(ws.OpText, true, "b")}},
		{"fragmented-control", []ws.Frame{clientFrame(ws.OpPing, false, "x")}},
		{"control-over-125", []ws.Frame{bigPing}},
		{"close-one-byte-body", []ws.Frame{clientFrame(ws.OpClose, true, "x")}},
		{"close-reserved-code", []ws.Frame{ws.MaskFrame(ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusNoStatusRcvd, "")))}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, closed := wsEchoProc()
			h := startHost(t, testConfig(t), p)
			other := dialRawWS(t, h)
			c := dialRawWS(t, h)
			c.write(tc.frames...)
			c.expectClose(ws.StatusProtocolError)
			expectClosedWith(t, closed, func(err error) bool {
				var pe ws.ProtocolError
				return errors.As(err, &pe)
			}, "a ws.ProtocolError")
			other.write(clientFrame(ws.OpBinary, true, "still here"))
			other.expectMessage("still here")
		})
	}
}

// TestWSOversizedMessageIsRefusedWithMessageTooBig: a message up to
// MaxWSMessage passes; one over it, in one frame or across fragments, gets
// a close frame with 1009 as soon as its header says so, before its bytes
// arrive.
func TestWSOversizedMessageIsRefusedWithMessageTooBig(t *testing.T) {
	const limit = 1024
	tooBig := func(err error) bool { return errors.Is(err, ErrWSMessageTooBig) }
	t.Run("at-the-limit-passes", func(t *testing.T) {
		p, _ := wsEchoProc()
		cfg := testConfig(t)
		cfg.MaxWSMessage = limit
		h := startHost(t, cfg, p)
		c := dialRawWS(t, h)
		c.write(clientFrame(ws.OpBinary, false, string(make([]byte, limit/2))), clientFrame(ws.OpContinuation, true, string(make([]byte, limit/2))))
		c.expectMessage(string(make([]byte, limit)))
	})
	t.Run("fragments-over-the-limit", func(t *testing.T) {
		p, closed := wsEchoProc()
		cfg := testConfig(t)
		cfg.MaxWSMessage = limit
		h := startHost(t, cfg, p)
		c := dialRawWS(t, h)
		c.write(clientFrame(ws.OpBinary, false, string(make([]byte, 600))), clientFrame(ws.OpContinuation, true, string(make([]byte, 600))))
		c.expectClose(ws.StatusMessageTooBig)
		expectClosedWith(t, closed, tooBig, "ErrWSMessageTooBig")
	})
	t.Run("header-over-the-limit", func(t *testing.T) {
		p, closed := wsEchoProc()
		cfg := testConfig(t)
		cfg.MaxWSMessage = limit
		h := startHost(t, cfg, p)
		c := dialRawWS(t, h)
		// A header declaring a gigabyte, and a few bytes of it.
		var b bytes.Buffer
		_ = ws.WriteHeader(&b, ws.Header{Fin: true, OpCode: ws.OpBinary, Masked: true, Mask: ws.NewMask(), Length: 1 << 30})
		b.WriteString("abc")
		c.writeBytes(b.Bytes())
		c.expectClose(ws.StatusMessageTooBig)
		expectClosedWith(t, closed, tooBig, "ErrWSMessageTooBig")
	})
}

// TestWSManySmallWritesInOneTurnArriveAsSeparateMessages: every Write of a
// turn is its own binary message, in order, even when the turn's output
// goes out in one socket write.
func TestWSManySmallWritesInOneTurnArriveAsSeparateMessages(t *testing.T) {
	const n = 500
	p := &testProc{n: 1, on: func(_ *testProc, _ int, ev runtime.Event) {
		if e, ok := ev.(runtime.ConnData); ok {
			for i := range n {
				e.Conn.Write(fmt.Appendf(nil, "%s %d", e.Data, i))
			}
		}
	}}
	h := startHost(t, testConfig(t), p)
	c := dialRawWS(t, h)
	c.write(clientFrame(ws.OpBinary, true, "m"))
	for i := range n {
		c.expectMessage(fmt.Sprintf("m %d", i))
	}
}

// TestWSTextMessagesAreDeliveredAsData: a text message reaches the
// process as the same bytes a binary one would (as before the reactor
// served WebSocket itself).
func TestWSTextMessagesAreDeliveredAsData(t *testing.T) {
	p, _ := wsEchoProc()
	h := startHost(t, testConfig(t), p)
	c := dialRawWS(t, h)
	c.write(clientFrame(ws.OpBinary, true, "first"), clientFrame(ws.OpText, false, "te"), clientFrame(ws.OpContinuation, true, "xt"))
	c.expectMessage("first")
	c.expectMessage("text")
}

// TestWSConnectionOpenedWithTextIsAnsweredInText: a connection whose first
// message is text (a JSON-RPC client) gets every message as text, later
// binary ones included; one opened with binary gets binary.
func TestWSConnectionOpenedWithTextIsAnsweredInText(t *testing.T) {
	p, _ := wsEchoProc()
	h := startHost(t, testConfig(t), p)
	c := dialRawWS(t, h)
	c.write(clientFrame(ws.OpText, true, `{"method":"ping"}`), clientFrame(ws.OpBinary, true, "b"))
	for _, want := range []string{`{"method":"ping"}`, "b"} {
		if f := c.read(); f.Header.OpCode != ws.OpText || !f.Header.Fin || string(f.Payload) != want {
			t.Fatalf("got op %d %q, want one text message %q", f.Header.OpCode, f.Payload, want)
		}
	}
}

// TestWSConnectionsHaveNoGoroutineOfTheirOwn: open WebSocket connections,
// idle or after traffic, add no goroutines.
func TestWSConnectionsHaveNoGoroutineOfTheirOwn(t *testing.T) {
	const n = 100
	p, _ := wsEchoProc()
	h := startHost(t, testConfig(t), p)
	before := goruntime.NumGoroutine()
	for i := range n {
		c := dialRawWS(t, h)
		c.write(clientFrame(ws.OpBinary, true, fmt.Sprint(i)))
		c.expectMessage(fmt.Sprint(i))
	}
	if s := h.Stats(); s.Open != n {
		t.Fatalf("stats %+v, want %d open", s, n)
	}
	// The HTTP server's goroutine for a connection ends just after the
	// upgrade; allow for a few still finishing.
	eventually(t, "goroutines to settle", func() bool { return goruntime.NumGoroutine() < before+n/10 })
}
