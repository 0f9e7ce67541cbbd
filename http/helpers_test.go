package http

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	nethttp "net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/runtime/reactor"
)

// The tests share one real node, hosted by the production runtime; each
// test uses its own uids and channels.
var (
	testNode *node.Node
	testHost *reactor.Host
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "jindou-http-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	testHost = reactor.New(reactor.Config{NodeID: 1, DataDir: dir, TCPAddr: "127.0.0.1:0", Logger: quiet, Reactors: 1})
	testNode = node.New(node.Config{Slots: 8})
	if err := testHost.Start(testNode); err != nil {
		fmt.Fprintln(os.Stderr, "start node:", err)
		return 1
	}
	defer testHost.Stop()
	if err := waitNodeReady(20 * time.Second); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

func waitNodeReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		ch := make(chan node.ReadyReply, 1)
		testNode.Submit(node.Ready{}, func(v any, _ error) { r, _ := v.(node.ReadyReply); ch <- r })
		r := <-ch
		if r.Ready {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("node not ready after %v: %s", timeout, r.Reason)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// newTestServer is a ready server over the shared node.
func newTestServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = quiet
	}
	s := New(cfg, testNode)
	s.SetComponentsReady(true, "")
	return s
}

// resp is an answer: its status code and body.
type resp struct {
	code int
	body string
}

// json decodes the body into v.
func (r resp) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.body), v); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
}

func (r resp) object(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	r.json(t, &m)
	return m
}

// do sends a request to s's handler; body "" sends none.
func do(t *testing.T, s *Server, method, path, body string, header ...string) resp {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, req)
	return resp{code: w.Code, body: w.Body.String()}
}

func post(t *testing.T, s *Server, path, body string) resp {
	t.Helper()
	return do(t, s, nethttp.MethodPost, path, body)
}

func get(t *testing.T, s *Server, path string) resp {
	t.Helper()
	return do(t, s, nethttp.MethodGet, path, "")
}

// mustOK requires {"status":200} exactly.
func mustOK(t *testing.T, r resp) {
	t.Helper()
	if r.code != 200 || strings.TrimSpace(r.body) != `{"status":200}` {
		t.Fatalf("want 200 {\"status\":200}, got %d %s", r.code, r.body)
	}
}

// must200 requires HTTP 200.
func must200(t *testing.T, r resp) {
	t.Helper()
	if r.code != 200 {
		t.Fatalf("want 200, got %d %s", r.code, r.body)
	}
}

// mustBad requires a 400 envelope whose message starts with field.
func mustBad(t *testing.T, r resp, field string) {
	t.Helper()
	if r.code != 400 {
		t.Fatalf("want 400 naming %q, got %d %s", field, r.code, r.body)
	}
	var body struct {
		Status int    `json:"status"`
		Msg    string `json:"msg"`
	}
	r.json(t, &body)
	if body.Status != 400 || !strings.HasPrefix(body.Msg, field+":") {
		t.Fatalf("want {status:400, msg:%q...}, got %s", field+":", r.body)
	}
}

// b64 is base64 of s.
func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// sendReply is /message/send's data.
type sendReply struct {
	Status int `json:"status"`
	Data   struct {
		MessageID   int64  `json:"message_id"`
		ClientMsgNo string `json:"client_msg_no"`
		MessageSeq  uint64 `json:"message_seq"`
	} `json:"data"`
}

func sendMsg(t *testing.T, s *Server, body string) sendReply {
	t.Helper()
	r := post(t, s, "/message/send", body)
	must200(t, r)
	var out sendReply
	r.json(t, &out)
	if out.Status != 200 || out.Data.MessageSeq == 0 || out.Data.MessageID == 0 {
		t.Fatalf("send: %s", r.body)
	}
	return out
}

// group creates group id with subscribers.
func group(t *testing.T, s *Server, id string, subscribers ...string) {
	t.Helper()
	subs, _ := json.Marshal(subscribers)
	mustOK(t, post(t, s, "/channel", fmt.Sprintf(`{"channel_id":%q,"channel_type":2,"subscribers":%s}`, id, subs)))
}
