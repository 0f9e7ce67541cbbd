package http

import (
	nethttp "net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jindou-im/jindou/web"
)

// serveFrom runs one request through a server made with cfg (over a node that
// never answers: none of these requests reaches it), from remote.
func serveFrom(t *testing.T, cfg Config, remote, method, path string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	cfg.Logger = quiet
	cfg.RequestTimeout = 50 * time.Millisecond // /metrics waits so long for the node that never answers
	h := New(cfg, stuck{}).Handler()
	req := httptest.NewRequest(method, path, nil)
	req.RemoteAddr = remote
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

const (
	loopbackPeer = "127.0.0.1:40000"
	remotePeer   = "192.0.2.7:40000"
)

func TestProfilerIsOffUnlessEnabledAndLoopbackModeServesOnlyLoopbackPeers(t *testing.T) {
	for _, c := range []struct {
		mode, peer string
		want       int
	}{
		{"", loopbackPeer, nethttp.StatusNotFound},
		{PprofOff, loopbackPeer, nethttp.StatusNotFound},
		{PprofLoopback, loopbackPeer, nethttp.StatusOK},
		{PprofLoopback, "[::1]:40000", nethttp.StatusOK},
		{PprofLoopback, remotePeer, nethttp.StatusForbidden},
		{PprofOn, remotePeer, nethttp.StatusOK},
	} {
		rec := serveFrom(t, Config{Ops: Ops{Pprof: c.mode}}, c.peer, "GET", "/debug/pprof/")
		if rec.Code != c.want {
			t.Errorf("pprof %q from %s: %d, want %d (%s)", c.mode, c.peer, rec.Code, c.want, rec.Body)
		}
	}
}

func TestMetricsTakeTheManagerTokenAsBearerOrArePublicWhenConfigured(t *testing.T) {
	tok := Config{ManagerToken: "m"}
	pub := Config{ManagerToken: "m", Ops: Ops{MetricsPublic: true}}
	for _, c := range []struct {
		name   string
		cfg    Config
		header []string
		want   int
	}{
		{"no token", tok, nil, nethttp.StatusUnauthorized},
		{"bearer", tok, []string{"Authorization", "Bearer m"}, nethttp.StatusOK},
		{"wrong bearer", tok, []string{"Authorization", "Bearer x"}, nethttp.StatusUnauthorized},
		{"header token", tok, []string{"token", "m"}, nethttp.StatusOK},
		{"public", pub, nil, nethttp.StatusOK},
	} {
		rec := serveFrom(t, c.cfg, remotePeer, "GET", "/metrics", c.header...)
		if rec.Code != c.want {
			t.Errorf("%s: /metrics %d, want %d", c.name, rec.Code, c.want)
		}
	}
	// The bearer token opens /metrics only.
	if rec := serveFrom(t, tok, remotePeer, "GET", "/varz", "Authorization", "Bearer m"); rec.Code != nethttp.StatusUnauthorized {
		t.Errorf("/varz with a bearer token: %d, want 401", rec.Code)
	}
}

func TestCORSAnswersConfiguredOriginsOnlyAndPreflightNeedsNoToken(t *testing.T) {
	cfg := Config{ManagerToken: "m", Ops: Ops{CORSOrigins: []string{"https://app.example.com"}}}
	pre := serveFrom(t, cfg, remotePeer, "OPTIONS", "/message/send", "Origin", "https://app.example.com",
		"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "token,content-type")
	if pre.Code != nethttp.StatusNoContent || pre.Header().Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Fatalf("preflight: %d, allow-origin %q", pre.Code, pre.Header().Get("Access-Control-Allow-Origin"))
	}
	if h := strings.ToLower(pre.Header().Get("Access-Control-Allow-Headers")); !strings.Contains(h, "token") {
		t.Errorf("preflight allows headers %q, want token among them", h)
	}
	other := serveFrom(t, cfg, remotePeer, "OPTIONS", "/message/send", "Origin", "https://evil.example.com",
		"Access-Control-Request-Method", "POST")
	if got := other.Header().Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("another origin got allow-origin %q", got)
	}
	none := serveFrom(t, Config{}, remotePeer, "GET", "/healthz", "Origin", "https://app.example.com")
	if got := none.Header().Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("without cors origins: allow-origin %q", got)
	}
}

func TestDemoAPIRefusesWhileTheNodeChecksTokens(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"token_auth", Config{Ops: Ops{Demo: true, TokenAuth: true}}, "token_auth is on"},
		{"manager token", Config{ManagerToken: "m", Ops: Ops{Demo: true}}, "a manager token is set"},
	} {
		rec := serveFrom(t, c.cfg, remotePeer, "GET", "/demo/api/online")
		if rec.Code != nethttp.StatusForbidden || !strings.Contains(rec.Body.String(), c.want) {
			t.Errorf("%s: %d %s, want 403 naming %q", c.name, rec.Code, rec.Body, c.want)
		}
	}
	if rec := serveFrom(t, Config{}, remotePeer, "GET", "/demo/"); rec.Code != nethttp.StatusNotFound {
		t.Errorf("demo off: /demo/ %d, want 404", rec.Code)
	}
}

func TestDemoLoginNamesABadUIDAndJoinsTheLobby(t *testing.T) {
	s := newTestServer(t, Config{WSAddr: "ws://127.0.0.1:5200", Ops: Ops{Demo: true}})
	if r := do(t, s, "POST", "/demo/api/login", `{"uid":"has space"}`); r.code != 400 || !strings.HasPrefix(r.object(t)["msg"].(string), "uid:") {
		t.Fatalf("bad uid: %d %s", r.code, r.body)
	}
	r := do(t, s, "POST", "/demo/api/login", `{"uid":"zoe"}`)
	if r.code != 200 {
		t.Fatalf("login: %d %s", r.code, r.body)
	}
	var got demoLoginReply
	r.json(t, &got)
	// httptest's requests come to example.com: the browser is sent there.
	if got.UID != "zoe" || got.Group != demoGroup || got.WSAddr != "ws://example.com:5200" {
		t.Fatalf("login reply %+v", got)
	}
	sync := do(t, s, "POST", "/demo/api/conversations", `{"uid":"zoe"}`)
	if sync.code != 200 {
		t.Fatalf("conversations: %d %s", sync.code, sync.body)
	}
}

func TestPagesAreServedWithoutTheManagerToken(t *testing.T) {
	cfg := Config{ManagerToken: "m", Ops: Ops{Demo: true}}
	for path, want := range map[string]int{"/web": nethttp.StatusFound, "/web/": 200, "/web/admin.js": 200,
		"/web/nope.js": 404, "/demo": nethttp.StatusFound, "/demo/": 200, "/demo/style.css": 200} {
		if rec := serveFrom(t, cfg, remotePeer, "GET", path); rec.Code != want {
			t.Errorf("GET %s: %d, want %d", path, rec.Code, want)
		}
	}
	rec := serveFrom(t, cfg, remotePeer, "GET", "/demo/"+web.DemoBundle)
	if web.Bundled() != (rec.Code == 200) {
		t.Errorf("GET /demo/demo.js: %d with the bundle built: %v", rec.Code, web.Bundled())
	}
	if !web.Bundled() && (rec.Code != nethttp.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "make build")) {
		t.Errorf("without the bundle: %d %s, want 503 saying how to build it", rec.Code, rec.Body)
	}
}

func TestRequestDurationsAreObservedPerRoute(t *testing.T) {
	s := newTestServer(t, Config{})
	get(t, s, "/healthz")
	get(t, s, "/healthz")
	r := get(t, s, "/metrics")
	want := `jindou_http_request_duration_seconds_count{method="GET",route="/healthz"} 2`
	if !strings.Contains(r.body, want) {
		t.Fatalf("/metrics lacks %s", want)
	}
}

func TestMetricsCountResendsKicksAndDuplicates(t *testing.T) {
	s := newTestServer(t, Config{})
	r := get(t, s, "/metrics")
	for _, name := range []string{"jindou_recv_resends_total", "jindou_kicks_total", "jindou_send_duplicates_total",
		"jindou_send_dedupe_expired_total", "jindou_raft_compactions_total", "jindou_disk_group_commit_slots_total",
		"jindou_disk_shared_commits_total"} {
		if !strings.Contains(r.body, "\n"+name+" ") {
			t.Errorf("/metrics lacks %s", name)
		}
	}
}

func TestLoopbackProfilerRefusesRequestsThroughAProxy(t *testing.T) {
	cfg := Config{Ops: Ops{Pprof: PprofLoopback}}
	for _, h := range forwardHeaders {
		rec := serveFrom(t, cfg, loopbackPeer, "GET", "/debug/pprof/", h, "192.0.2.7")
		if rec.Code != nethttp.StatusForbidden || !strings.Contains(rec.Body.String(), "proxy") {
			t.Errorf("pprof from a proxy on loopback (%s): %d %s, want 403", h, rec.Code, rec.Body)
		}
	}
	if rec := serveFrom(t, Config{Ops: Ops{Pprof: PprofOn}}, loopbackPeer, "GET", "/debug/pprof/", "X-Forwarded-For", "192.0.2.7"); rec.Code != nethttp.StatusOK {
		t.Errorf("pprof: on through a proxy: %d, want 200", rec.Code)
	}
}
