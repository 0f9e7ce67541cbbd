package http

import (
	"bufio"
	"errors"
	"io"
	"net"
	nethttp "net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jindou-im/jindou/node"
)

// paddedBody is a setUnread body of about n bytes.
func paddedBody(n int) string {
	const head = `{"uid":"lim-u","channel_id":"lim-g","channel_type":2,"unread":1,"pad":"`
	return head + strings.Repeat("x", max(n-len(head)-2, 0)) + `"}`
}

// mustStatus requires status code and a JSON envelope whose message holds
// every one of parts.
func mustStatus(t *testing.T, r resp, code int, parts ...string) {
	t.Helper()
	var body struct {
		Status int    `json:"status"`
		Msg    string `json:"msg"`
	}
	if r.code != code {
		t.Fatalf("want %d, got %d %s", code, r.code, r.body)
	}
	r.json(t, &body)
	if body.Status != code {
		t.Fatalf("want status %d in the body, got %s", code, r.body)
	}
	for _, p := range parts {
		if !strings.Contains(body.Msg, p) {
			t.Fatalf("want a message naming %q, got %s", p, r.body)
		}
	}
}

func TestBodyOverTheLimitAnswers413NamingTheLimit(t *testing.T) {
	s := newTestServer(t, Config{Limits: Limits{MaxBody: 1000}})
	mustStatus(t, post(t, s, "/conversations/setUnread", paddedBody(2000)), 413, "body:", "1000 bytes", "http_max_body")
	// Without a Content-Length the limit holds while the body is read.
	req := httptest.NewRequest("POST", "/conversations/setUnread", io.MultiReader(strings.NewReader(paddedBody(2000))))
	req.ContentLength = -1
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, req)
	mustStatus(t, resp{code: w.Code, body: w.Body.String()}, 413, "1000 bytes", "http_max_body")
	// A body within the limit is served.
	mustOK(t, post(t, s, "/conversations/setUnread", paddedBody(900)))
}

func TestBulkRoutesTakeTheLargerBodyLimit(t *testing.T) {
	s := newTestServer(t, Config{Limits: Limits{MaxBody: 200, MaxBulkBody: 4000}})
	payload := b64(strings.Repeat("p", 1500))
	sendMsg(t, s, `{"from_uid":"lim-a","channel_id":"lim-b","channel_type":1,"payload":"`+payload+`"}`)
	big := b64(strings.Repeat("p", 4000))
	mustStatus(t, post(t, s, "/message/send", `{"from_uid":"lim-a","channel_id":"lim-b","channel_type":1,"payload":"`+big+`"}`),
		413, "4000 bytes", "http_max_bulk_body")
}

// heldNode answers no request until release is closed.
type heldNode struct {
	release chan struct{}
}

func (h heldNode) Submit(_ node.Request, done func(any, error)) {
	go func() {
		<-h.release
		done(nil, errors.New("released"))
	}()
}

// holdRequests starts n requests to path with bodies of bodyLen bytes,
// which wait in the node, and waits until the server counts them.
func holdRequests(t *testing.T, s *Server, n int, path string, bodyLen int) *sync.WaitGroup {
	t.Helper()
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := httptest.NewRequest("POST", path, strings.NewReader(paddedBody(bodyLen)))
			s.Handler().ServeHTTP(httptest.NewRecorder(), req)
		}()
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.gate.mu.Lock()
		in := s.gate.requests
		s.gate.mu.Unlock()
		if in == n {
			return &wg
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d requests in flight", in, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRequestsBeyondTheBoundAnswer429AndProbesStillAnswer(t *testing.T) {
	held := heldNode{release: make(chan struct{})}
	s := New(Config{Logger: quiet, Limits: Limits{MaxRequests: 2}}, held)
	wg := holdRequests(t, s, 2, "/conversations/setUnread", 100)
	mustStatus(t, post(t, s, "/conversations/setUnread", paddedBody(100)), 429, "at most 2", "http_max_requests")
	if r := get(t, s, "/healthz"); r.code != 200 {
		t.Fatalf("/healthz while the bound is reached: %d %s", r.code, r.body)
	}
	close(held.release)
	wg.Wait()
	if r := post(t, s, "/conversations/setUnread", paddedBody(100)); r.code == 429 {
		t.Fatalf("still refused once the requests ended: %s", r.body)
	}
}

func TestBodiesBeyondTheBudgetAnswer429(t *testing.T) {
	held := heldNode{release: make(chan struct{})}
	s := New(Config{Logger: quiet, Limits: Limits{MaxBody: 1000, BodyBudget: 1000}}, held)
	wg := holdRequests(t, s, 1, "/conversations/setUnread", 600)
	mustStatus(t, post(t, s, "/conversations/setUnread", paddedBody(600)), 429, "1000 bytes", "http_body_budget")
	close(held.release)
	wg.Wait()
}

// startLimited starts a real server on loopback with limits l.
func startLimited(t *testing.T, l Limits) string {
	t.Helper()
	s := newTestServer(t, Config{Addr: "127.0.0.1:0", Limits: l})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop(t.Context()) })
	return s.Addr().String()
}

// rawRequest writes request on a new connection to addr and reads the
// answer's head; the connection stays open (closed at the test's end).
func rawRequest(t *testing.T, addr, request string) (net.Conn, *bufio.Reader, *nethttp.Response) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	_, _ = io.WriteString(conn, request)
	br := bufio.NewReader(conn)
	res, err := nethttp.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no answer to %q: %v", request, err)
	}
	return conn, br, res
}

func TestABodyThatNeverArrivesIsCutAfterTheReadTimeout(t *testing.T) {
	addr := startLimited(t, Limits{ReadTimeout: 300 * time.Millisecond})
	conn, _, res := rawRequest(t, addr, "POST /conversations/setUnread HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
	b, _ := io.ReadAll(res.Body)
	mustStatus(t, resp{code: res.StatusCode, body: string(b)}, 408, "http_read_timeout")
	if n, err := conn.Read(make([]byte, 1)); err == nil {
		t.Fatalf("the connection stays open after the cut (read %d bytes)", n)
	}
}

func TestAnIdleKeepAliveConnectionIsClosed(t *testing.T) {
	addr := startLimited(t, Limits{IdleTimeout: 300 * time.Millisecond})
	_, br, res := rawRequest(t, addr, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	_, _ = io.Copy(io.Discard, res.Body)
	if res.StatusCode != 200 || res.Close {
		t.Fatalf("want a kept-alive 200, got %d close=%v", res.StatusCode, res.Close)
	}
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		t.Fatalf("want the idle connection closed by the server, got %v", err)
	}
}

// net/http/pprof extends the write deadline of a profile itself; this
// keeps the API's write timeout from cutting one.
func TestProfilesOutlastTheWriteTimeout(t *testing.T) {
	s := newTestServer(t, Config{Addr: "127.0.0.1:0", Ops: Ops{Pprof: PprofLoopback},
		Limits: Limits{WriteTimeout: 300 * time.Millisecond}})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop(t.Context()) })
	res, err := nethttp.Get("http://" + s.Addr().String() + "/debug/pprof/profile?seconds=1")
	if err != nil {
		t.Fatalf("a 1 s profile under a 300 ms write timeout: %v", err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != 200 || len(b) == 0 {
		t.Fatalf("a 1 s profile under a 300 ms write timeout: %d, %d bytes, %v", res.StatusCode, len(b), err)
	}
}
