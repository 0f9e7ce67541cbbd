package reactor

import (
	"bufio"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jindou-im/jindou/runtime"
)

// testTimeout bounds every wait in the tests.
const testTimeout = 10 * time.Second

// testProc is a process for tests: n loops named "l0".."ln-1", connections
// spread over them round-robin, every event handed to on (on its loop's
// goroutine), and stop run by Stop.
type testProc struct {
	n     int
	env   runtime.Env
	loops []runtime.Loop
	on    func(p *testProc, loop int, ev runtime.Event)
	stop  func(p *testProc)
	next  int // guarded by the host's accept serialization
}

type testHandler struct {
	p *testProc
	i int
}

func (h testHandler) Handle(ev runtime.Event) { h.p.on(h.p, h.i, ev) }

func (p *testProc) Start(env runtime.Env) error {
	p.env = env
	for i := range max(p.n, 1) {
		p.loops = append(p.loops, env.NewLoop("l"+string(rune('0'+i)), testHandler{p, i}))
	}
	return nil
}

func (p *testProc) Accept(runtime.ConnInfo) runtime.Loop {
	l := p.loops[p.next%len(p.loops)]
	p.next++
	return l
}

func (p *testProc) Stop() {
	if p.stop != nil {
		p.stop(p)
	}
}

func (p *testProc) Kill() {}

// testConfig is a host on loopback with free ports and a quiet logger.
func testConfig(t *testing.T) Config {
	return Config{
		NodeID:   1,
		TCPAddr:  "127.0.0.1:0",
		WSAddr:   "127.0.0.1:0",
		DataDir:  t.TempDir(),
		Reactors: 2,
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

// startHost starts p on a new host and stops it when the test ends.
func startHost(t *testing.T, cfg Config, p runtime.Process) *Host {
	t.Helper()
	h := New(cfg)
	if err := h.Start(p); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(h.Stop)
	return h
}

// lineClient is a TCP client of a line protocol.
type lineClient struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func dialTCP(t *testing.T, h *Host) *lineClient {
	t.Helper()
	conn, err := net.DialTimeout("tcp", h.TCPAddr().String(), testTimeout)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return &lineClient{t: t, conn: conn, r: bufio.NewReader(conn)}
}

func (c *lineClient) send(line string) {
	c.t.Helper()
	if _, err := io.WriteString(c.conn, line+"\n"); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *lineClient) expect(want string) {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(testTimeout))
	got, err := c.r.ReadString('\n')
	if err != nil {
		c.t.Fatalf("read (want %q): %v", want, err)
	}
	if got = strings.TrimSuffix(got, "\n"); got != want {
		c.t.Fatalf("got %q, want %q", got, want)
	}
}

// expectEOF waits for the server to close the connection.
func (c *lineClient) expectEOF() {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(testTimeout))
	if _, err := io.Copy(io.Discard, c.r); err != nil && !isReset(err) {
		c.t.Fatalf("want EOF: %v", err)
	}
}

func isReset(err error) bool { return err != nil && strings.Contains(err.Error(), "reset by peer") }

// wsClient is a WebSocket client of a line protocol, one message per line.
type wsClient struct {
	t    *testing.T
	conn *websocket.Conn
	buf  []byte
}

func dialWS(t *testing.T, h *Host) *wsClient {
	t.Helper()
	d := websocket.Dialer{HandshakeTimeout: testTimeout}
	conn, _, err := d.Dial("ws://"+h.WSAddr().String()+"/any/path", nil)
	if err != nil {
		t.Fatalf("ws dial: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return &wsClient{t: t, conn: conn}
}

func (c *wsClient) send(line string) {
	c.t.Helper()
	if err := c.conn.WriteMessage(websocket.BinaryMessage, []byte(line+"\n")); err != nil {
		c.t.Fatalf("ws write: %v", err)
	}
}

func (c *wsClient) sendRaw(data string) {
	c.t.Helper()
	if err := c.conn.WriteMessage(websocket.BinaryMessage, []byte(data)); err != nil {
		c.t.Fatalf("ws write: %v", err)
	}
}

// expectClose waits for a normal close frame from the server.
func (c *wsClient) expectClose() {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(testTimeout))
	_, _, err := c.conn.ReadMessage()
	if !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
		c.t.Fatalf("want a normal close, got %v", err)
	}
}

// expectMessage reads one message and compares it whole.
func (c *wsClient) expectMessage(want string) {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(testTimeout))
	typ, got, err := c.conn.ReadMessage()
	if err != nil {
		c.t.Fatalf("ws read (want %q): %v", want, err)
	}
	if typ != websocket.BinaryMessage || string(got) != want {
		c.t.Fatalf("got message %d %q, want binary %q", typ, got, want)
	}
}

// eventually polls cond until it holds or the test times out.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
