package e2e

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/wkclient"
)

// Bounded HTTP and connections (issue 17): bodies, requests in flight,
// read and idle timeouts, the WebSocket connect timeout and the fd cap,
// against the real binary.

// hostPort is the host:port of an http:// or ws:// URL.
func hostPort(url string) string {
	_, hp, _ := strings.Cut(url, "://")
	return hp
}

// rawDial connects to the host:port of url, closed at the test's end.
func rawDial(t *testing.T, url string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", hostPort(url))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// stalledPost sends a request with a body whose Content-Length is declared
// but only part of it sent; the connection is returned open.
func stalledPost(t *testing.T, p *proc, path string) net.Conn {
	t.Helper()
	conn := rawDial(t, p.HTTP)
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"uid\":", path)
	return conn
}

// httpAnswer is one answer's status and envelope.
type httpAnswer struct {
	code int
	env  envelope
}

func postRaw(t *testing.T, p *proc, path string, body []byte) httpAnswer {
	t.Helper()
	resp, err := httpClient.Post(p.HTTP+path, "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	var a httpAnswer
	a.code = resp.StatusCode
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &a.env); err != nil {
		t.Fatalf("POST %s: %d answer is not JSON: %q", path, resp.StatusCode, b)
	}
	return a
}

func (a httpAnswer) must(t *testing.T, code int, parts ...string) {
	t.Helper()
	if a.code != code || a.env.Status != code {
		t.Fatalf("got %d %+v, want %d", a.code, a.env, code)
	}
	for _, s := range parts {
		if !strings.Contains(a.env.Msg, s) {
			t.Fatalf("message %q does not name %q", a.env.Msg, s)
		}
	}
}

func TestHTTPBodiesOverTheLimitAre413NamingItAndSendsTakeTheBulkLimit(t *testing.T) {
	p := startNode(t, nodeOpts{env: []string{"JINDOU_HTTP_MAX_BODY=4096", "JINDOU_HTTP_MAX_BULK_BODY=65536"}})
	pad := strings.Repeat("x", 10000)
	postRaw(t, p, "/conversations/setUnread", []byte(`{"uid":"rb-u","channel_id":"g","channel_type":2,"unread":1,"pad":"`+pad+`"}`)).
		must(t, 413, "4096 bytes", "http_max_body")
	payload := base64.StdEncoding.EncodeToString([]byte(pad))
	postRaw(t, p, "/message/send", []byte(`{"from_uid":"rb-a","channel_id":"rb-b","channel_type":1,"payload":"`+payload+`"}`)).must(t, 200)
	huge := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("y", 70000)))
	postRaw(t, p, "/message/send", []byte(`{"from_uid":"rb-a","channel_id":"rb-b","channel_type":1,"payload":"`+huge+`"}`)).
		must(t, 413, "65536 bytes", "http_max_bulk_body")
}

func TestHTTPRequestsBeyondTheBoundAre429AndAStalledBodyIsCutAfterTheReadTimeout(t *testing.T) {
	p := startNode(t, nodeOpts{env: []string{"JINDOU_HTTP_MAX_REQUESTS=2", "JINDOU_HTTP_READ_TIMEOUT=2s"}})
	// Each stalled request takes its slot once its headers are read: give
	// each a moment, so that no other request takes it first.
	var held []net.Conn
	for range 2 {
		held = append(held, stalledPost(t, p, "/conversations/setUnread"))
		time.Sleep(300 * time.Millisecond)
	}
	begin := time.Now()
	refused := postRaw(t, p, "/conversations/setUnread", []byte(`{"uid":"rb-u","channel_id":"g","channel_type":2,"unread":1}`))
	refused.must(t, 429, "at most 2", "http_max_requests")
	resp, err := http.Get(p.HTTP + "/readyz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("/readyz while the bound is reached: %v %v", resp, err)
	}
	resp.Body.Close()
	for _, conn := range held {
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("no answer to a stalled body: %v", err)
		}
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != 408 || !strings.Contains(string(b), "http_read_timeout") {
			t.Fatalf("stalled body: %d %s, want 408 naming http_read_timeout", res.StatusCode, b)
		}
		if _, err := conn.Read(make([]byte, 1)); err == nil {
			t.Fatal("the connection of a stalled body stays open")
		}
	}
	if took := time.Since(begin); took > 8*time.Second {
		t.Fatalf("stalled bodies cut after %v, want about the 2 s read timeout", took)
	}
	postRaw(t, p, "/conversations/setUnread", []byte(`{"uid":"rb-u","channel_id":"g","channel_type":2,"unread":1}`)).must(t, 200)
}

func TestHTTPIdleKeepAliveConnectionsAreClosed(t *testing.T) {
	p := startNode(t, nodeOpts{env: []string{"JINDOU_HTTP_IDLE_TIMEOUT=1s"}})
	conn := rawDial(t, p.HTTP)
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	if res.StatusCode != 200 || res.Close {
		t.Fatalf("want a kept-alive 200, got %d close=%v", res.StatusCode, res.Close)
	}
	begin := time.Now()
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		t.Fatalf("want the idle connection closed, got %v", err)
	}
	if took := time.Since(begin); took > 5*time.Second {
		t.Fatalf("idle connection closed after %v, want about 1 s", took)
	}
}

// closedWithin fails unless the server closes conn within limit.
func closedWithin(t *testing.T, conn net.Conn, limit time.Duration, what string) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(limit))
	_, err := io.Copy(io.Discard, conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("%s: still open after %v", what, limit)
	}
}

func TestWebSocketConnectionsWithoutCONNECTAreClosedAfterTheConnectTimeout(t *testing.T) {
	p := startNode(t, nodeOpts{env: []string{"JINDOU_CONNECT_TIMEOUT=1s"}})
	// No upgrade request at all (the handshake alone used to wait 10 s).
	closedWithin(t, rawDial(t, p.WS), 4*time.Second, "a WebSocket connection that sends no upgrade")
	// Upgraded, then silent: the gateway's connect timeout, as on TCP.
	ws, _, err := websocket.DefaultDialer.Dial(p.WS, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	_ = ws.SetReadDeadline(time.Now().Add(4 * time.Second))
	for {
		_, _, err := ws.ReadMessage()
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatal("an upgraded WebSocket without CONNECT is still open after 4 s")
		}
		if err != nil {
			break
		}
	}
}

// openFDs counts the descriptors pid holds.
func openFDs(t *testing.T, pid int) int {
	t.Helper()
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Skipf("cannot count descriptors: %v", err)
	}
	return len(entries)
}

// refusedConnect sends a CONNECT at the fd cap and wants a CONNACK with
// reason 15 (system error) and a DISCONNECT naming the cause. The node
// holds a few such clients at once (the silent ones of the test may hold
// them for their 2 s): past them a client is closed unanswered, so it
// tries again a few times.
func refusedConnect(t *testing.T, p *proc) {
	t.Helper()
	connect, err := proto.AppendFrame(nil, &proto.Connect{Version: proto.LatestVersion, DeviceFlag: proto.DeviceApp,
		UID: "fd-late", ClientKey: "k", ClientTimestamp: time.Now().UnixMilli()}, proto.LatestVersion)
	if err != nil {
		t.Fatal(err)
	}
	var answer []byte
	for try := 0; try < 5 && len(answer) == 0; try++ {
		c, err := net.Dial("tcp", p.TCP)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = c.Write(connect)
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		answer, _ = io.ReadAll(c)
		c.Close()
		if len(answer) == 0 {
			time.Sleep(time.Second)
		}
	}
	d := proto.NewDecoder(proto.DefaultMaxFrameSize)
	d.SetVersion(proto.LatestVersion)
	d.Feed(answer)
	ack, err := d.Next()
	if a, ok := ack.(*proto.Connack); err != nil || !ok || a.ReasonCode != proto.ReasonSystemError {
		t.Fatalf("a CONNECT at the fd cap got %v %v (%q), want a CONNACK with reason %d", ack, err, answer, proto.ReasonSystemError)
	}
	dis, err := d.Next()
	if dd, ok := dis.(*proto.Disconnect); err != nil || !ok || !strings.Contains(dd.Reason, "out of file descriptors") {
		t.Fatalf("after the CONNACK at the fd cap: %v %v, want a DISCONNECT naming the cause", dis, err)
	}
}

func TestAtTheFDCapClientsAreAnsweredAtOnceLoggedOnceAndCounted(t *testing.T) {
	if _, err := exec.LookPath("prlimit"); err != nil {
		t.Skip("prlimit (util-linux) is needed to lower the node's descriptor limit")
	}
	p := startNode(t, nodeOpts{env: []string{"JINDOU_CONNECT_TIMEOUT=60s"}})
	pid := p.cmd.Process.Pid
	limit := openFDs(t, pid) + 8
	if out, err := exec.Command("prlimit", "--pid", strconv.Itoa(pid), fmt.Sprintf("--nofile=%d:%d", limit, limit)).CombinedOutput(); err != nil {
		t.Skipf("prlimit: %v %s", err, out)
	}
	// Connections that never send CONNECT fill the node's descriptors.
	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for range 20 {
		c, err := net.Dial("tcp", p.TCP)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	// Beyond the cap a client is answered soon: closed, not left to its
	// own timeout (a few are held for 2 s for a CONNECT that never comes,
	// the rest closed at once).
	refusedAt := -1
	for i, c := range held {
		_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		_, err := c.Read(make([]byte, 1))
		var ne net.Error
		if err != nil && !(errors.As(err, &ne) && ne.Timeout()) {
			refusedAt = i
			break
		}
	}
	if refusedAt < 0 {
		t.Fatalf("none of 20 connections past a limit of %d descriptors was closed", limit)
	}
	ws := rawDial(t, p.WS)
	fmt.Fprintf(ws, "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
	_ = ws.SetReadDeadline(time.Now().Add(3 * time.Second))
	answer, _ := io.ReadAll(ws)
	ws.Close()
	if !strings.HasPrefix(string(answer), "HTTP/1.1 503") || !strings.Contains(string(answer), "out of file descriptors") {
		t.Fatalf("WebSocket at the fd cap: %q, want a 503 naming the cause", answer)
	}
	refusedConnect(t, p)
	for _, c := range held {
		c.Close()
	}
	held = nil
	// Descriptors free again: logins work, the episode was logged once
	// at each end, and /metrics counts the refusals.
	deadline := time.Now().Add(10 * time.Second)
	var c *wkclient.NetClient
	var err error
	for {
		c, err = wkclient.DialTCP(p.TCP, wkclient.Options{UID: "fd-u", DeviceFlag: proto.DeviceApp})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no login after the descriptors were freed: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.Close()
	// One line when an episode starts and one when it ends, not one per
	// failed accept. While the closed connections' descriptors are freed
	// one by one, the cap may be left and hit again: a second episode.
	starts := len(p.LogLines("reactor: out of file descriptors: new connections are answered at once and closed until some are freed"))
	ends := len(p.LogLines("reactor: accepting connections again after running out of file descriptors"))
	if starts < 1 || starts > 3 || ends != starts {
		t.Fatalf("%d log lines for episodes' starts and %d for their ends, want 1 to 3 of each, as many ends as starts", starts, ends)
	}
	metrics := getText(t, p.HTTP+"/metrics")
	for _, want := range []string{`jindou_accept_refused_total{listener="tcp"}`, `jindou_accept_refused_total{listener="ws"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Fatalf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(metrics, `jindou_accept_refused_total{listener="tcp"} 0`) {
		t.Fatal("/metrics counts no TCP refusal")
	}
}

func getText(t *testing.T, url string) string {
	t.Helper()
	resp, err := httpClient.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return string(b)
}

func TestByDefaultPprofIsServedOnlyToLoopbackPeersNotThroughAProxy(t *testing.T) {
	p := startNode(t, nodeOpts{}) // no manager token, the default pprof mode
	get := func(header ...string) int {
		req, _ := http.NewRequest("GET", p.HTTP+"/debug/pprof/cmdline", nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := httpClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get(); code != 200 {
		t.Fatalf("pprof from loopback: %d, want 200", code)
	}
	if code := get("X-Forwarded-For", "192.0.2.7"); code != 403 {
		t.Fatalf("pprof through a proxy on loopback: %d, want 403", code)
	}
}
