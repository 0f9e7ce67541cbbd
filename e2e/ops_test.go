package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/wkclient"
)

// Operations: what an operator meets running the binary.

func TestAStartWithAnotherSlotCountIsRefusedAndTheDataKept(t *testing.T) {
	dir := t.TempDir()
	p := startNode(t, nodeOpts{dataDir: dir})
	a, b := dialTCP(t, p, "meta-a"), dialTCP(t, p, "meta-b")
	exchange(t, a, b, "meta-a", "meta-b", "kept across the refused start", 1)
	a.Close()
	b.Close()
	p.signal(syscall.SIGTERM)
	if code := p.wait(20 * time.Second); code != 0 {
		t.Fatalf("stop: exit %d", code)
	}
	q := launch(t, nodeOpts{dataDir: dir, env: []string{"JINDOU_SLOTS=32"}})
	if code := q.wait(20 * time.Second); code != 1 {
		t.Fatalf("start with slots 32 on a data dir of 64: exit %d, want 1:\n%s", code, q.Logs())
	}
	want := "the data was written with slots 64, this start asks for slots 32; start with slots: 64"
	if !strings.Contains(q.Logs(), want) {
		t.Fatalf("the refusal does not say %q:\n%s", want, q.Logs())
	}
	r := startNode(t, nodeOpts{dataDir: dir})
	if h := r.history("meta-a", "meta-b", 1); len(h) != 1 {
		t.Fatalf("after the refused start: %d messages, want 1", len(h))
	}
}

// slowRequest keeps an HTTP request in flight for about d (the profiler's
// CPU profile, served to loopback by default), so that a graceful stop
// waits for it.
func slowRequest(t *testing.T, p *proc, d time.Duration) <-chan int {
	t.Helper()
	done := make(chan int, 1)
	go func() {
		resp, err := http.Get(p.HTTP + "/debug/pprof/profile?seconds=" + strings.TrimSuffix(d.String(), "s"))
		if err != nil {
			done <- 0
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	time.Sleep(300 * time.Millisecond) // the request is in flight
	return done
}

func TestASecondSignalDoesNotAbortTheGracefulStopAndAThirdForcesIt(t *testing.T) {
	t.Run("second", func(t *testing.T) {
		p := startNode(t, nodeOpts{})
		inFlight := slowRequest(t, p, 2*time.Second)
		p.signal(syscall.SIGTERM)
		time.Sleep(200 * time.Millisecond)
		p.signal(syscall.SIGTERM)
		if code := p.wait(20 * time.Second); code != 0 {
			t.Fatalf("exit %d after two signals, want 0 (the stop finished):\n%s", code, p.Logs())
		}
		if code := <-inFlight; code != http.StatusOK {
			t.Errorf("the request in flight got %d, want 200 (the stop waited for it)", code)
		}
		if len(p.LogLines("signal during the graceful stop: still stopping (one more forces an exit)")) != 1 || len(p.LogLines("stopped")) != 1 {
			t.Fatalf("want the second signal logged and the stop finished:\n%s", p.Logs())
		}
	})
	t.Run("third", func(t *testing.T) {
		p := startNode(t, nodeOpts{})
		slowRequest(t, p, 5*time.Second)
		for range 3 {
			p.signal(syscall.SIGTERM)
			time.Sleep(200 * time.Millisecond)
		}
		if code := p.wait(3 * time.Second); code != 1 {
			t.Fatalf("exit %d after three signals, want 1 at once:\n%s", code, p.Logs())
		}
		if len(p.LogLines("signal during the graceful stop: exiting now, without finishing the stop")) != 1 {
			t.Fatalf("the forced exit is not logged:\n%s", p.Logs())
		}
	})
}

func TestABoundToAnyListenerIsAdvertisedAtAReachableAddress(t *testing.T) {
	p := startNode(t, nodeOpts{tcpAddr: "0.0.0.0:0"})
	var route map[string]string
	resp, err := http.Get(p.HTTP + "/route")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&route); err != nil {
		t.Fatal(err)
	}
	host, port, err := net.SplitHostPort(route["tcp_addr"])
	if err != nil || net.ParseIP(host) == nil || net.ParseIP(host).IsUnspecified() || port == "0" {
		t.Fatalf("/route tcp_addr %q: want a dialable host:port", route["tcp_addr"])
	}
	lines := p.LogLines("advertising a bound-to-any listener at the host's first non-loopback address (set external_tcp_addr to change it)")
	if len(lines) != 1 || lines[0]["advertised"] != route["tcp_addr"] {
		t.Fatalf("the choice is not logged as /route says it (%q):\n%s", route["tcp_addr"], p.Logs())
	}
	// Start-up says in one line that the slots caught up (raft's own
	// lines are at debug).
	if l := waitLogLines(t, p, "slots caught up", 1)[0]; l["slots"] != float64(64) || l["leader"] != float64(64) {
		t.Fatalf("start-up summary %v: want 64 slots, 64 led", l)
	}
	if n := strings.Count(p.Logs(), "became leader"); n != 0 {
		t.Fatalf("raft's election lines at info: %d", n)
	}
	// A client reaches the node there.
	c := dialTCPAt(t, route["tcp_addr"], "advertised")
	c.Close()
}

func TestMetricsCarryTheBuildAndTakeABearerToken(t *testing.T) {
	p := startNode(t, nodeOpts{env: []string{"JINDOU_MANAGER_TOKEN=scrape-me"}})
	get := func(auth string) (int, string) {
		req, _ := http.NewRequest("GET", p.HTTP+"/metrics", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get(""); code != http.StatusUnauthorized {
		t.Fatalf("/metrics without a token: %d, want 401", code)
	}
	code, body := get("Bearer scrape-me")
	if code != http.StatusOK || !strings.Contains(body, "jindou_build_info{") {
		t.Fatalf("/metrics with the bearer token: %d, jindou_build_info present: %v", code, strings.Contains(body, "jindou_build_info{"))
	}
}

func TestBenchRegistersTokensOnATokenAuthNode(t *testing.T) {
	p := startNode(t, nodeOpts{env: []string{"JINDOU_TOKEN_AUTH=true", "JINDOU_MANAGER_TOKEN=bench-mgr"}})
	base := []string{"bench", "--tcp", p.TCP, "--http", p.HTTP, "--timeout", "60s"}
	out, err := exec.Command(jindouBin, append(base, "--manager-token", "bench-mgr", "connect", "-n", "10", "-c", "2")...).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "10 handshakes (0 failed)") {
		t.Fatalf("bench connect with the manager token: %v\n%s", err, out)
	}
	out, err = exec.Command(jindouBin, append(base, "send", "-m", "2", "-n", "5", "-w", "2", "--mode", "person")...).CombinedOutput()
	if err == nil {
		t.Fatalf("bench send without the manager token succeeded on a token_auth node:\n%s", out)
	}
	for _, want := range []string{"reason 2 (auth fail", "pass it with --manager-token"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("bench's refusal does not say %q:\n%s", want, out)
		}
	}
}

// dialTCPAt logs uid in over TCP at addr.
func dialTCPAt(t *testing.T, addr, uid string) *wkclient.NetClient {
	t.Helper()
	c, err := wkclient.DialTCP(addr, wkclient.Options{UID: uid, DeviceFlag: proto.DeviceApp})
	if err != nil {
		t.Fatalf("%s connecting to %s: %v", uid, addr, err)
	}
	return c
}

func TestRefusedConnectionsAreLoggedWithTheReasonAndRateLimited(t *testing.T) {
	// One gateway loop: the burst is per loop.
	p := startNode(t, nodeOpts{env: []string{"JINDOU_TOKEN_AUTH=true", "JINDOU_GATEWAY_LOOPS=1"}})
	refused := func() {
		_, err := wkclient.DialTCP(p.TCP, wkclient.Options{UID: "intruder", Token: "wrong", DeviceFlag: proto.DeviceApp})
		var ce *wkclient.ConnackError
		if !errors.As(err, &ce) || ce.Reason != proto.ReasonAuthFail {
			t.Fatalf("CONNECT with a wrong token: %v, want an auth-fail CONNACK", err)
		}
	}
	const attempts = 8
	for range attempts {
		refused()
	}
	lines := waitLogLines(t, p, "connection refused", 5)
	for _, l := range lines {
		if l["reason"] != "2 (auth fail)" || l["uid"] != "intruder" || l["addr"] == "" {
			t.Fatalf("refusal line %v: want reason \"2 (auth fail)\", the uid and the address", l)
		}
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(p.LogLines("connection refused")); n != 5 {
		t.Fatalf("%d refusal lines for %d refusals in one window, want 5 (the burst)", n, attempts)
	}
	time.Sleep(10 * time.Second) // the window ends
	refused()
	lines = waitLogLines(t, p, "connection refused", 6)
	if got := lines[5]["suppressed"]; got != float64(attempts-5) {
		t.Fatalf("the next window's line says suppressed %v, want %d", got, attempts-5)
	}
}

func TestHTTPClientErrorsAreLoggedWithRouteAndField(t *testing.T) {
	p := startNode(t, nodeOpts{})
	err := p.post("/channel/subscriber_add", map[string]any{"channel_type": 2, "subscribers": []string{"a"}}, nil)
	if err == nil {
		t.Fatal("subscriber_add without channel_id succeeded")
	}
	l := waitLogLines(t, p, "http: request refused", 1)[0]
	if l["route"] != "/channel/subscriber_add" || l["field"] != "channel_id" || l["status"] != float64(400) || l["level"] != "INFO" {
		t.Fatalf("log line %v: want route /channel/subscriber_add, field channel_id, status 400 at INFO", l)
	}
	if took := p.LogLines("serving")[0]["took"]; fmt.Sprint(took) == "" || strings.Trim(fmt.Sprint(took), "0123456789.") == "" {
		t.Fatalf("durations are not readable in JSON logs: took %v", took)
	}
}

// waitLogLines waits until p logged n lines with msg and returns them.
func waitLogLines(t *testing.T, p *proc, msg string, n int) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		lines := p.LogLines(msg)
		if len(lines) >= n {
			return lines
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d %q lines, want %d:\n%s", len(lines), msg, n, p.Logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestHealthcheckCommandFollowsReadyz(t *testing.T) {
	p := startNode(t, nodeOpts{})
	out, err := exec.Command(jindouBin, "healthcheck", "--url", p.HTTP+"/readyz").CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"ready"`) {
		t.Fatalf("healthcheck of a ready node: %v\n%s", err, out)
	}
	out, err = exec.Command(jindouBin, "healthcheck", "--url", p.HTTP+"/nope").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "404") {
		t.Fatalf("healthcheck of a 404: %v\n%s", err, out)
	}
}

// TestDashboardQueriesOnlyMetricsTheNodeExports: every metric the Grafana
// dashboard (dashboards/jindou.json) queries is at a node's /metrics: a
// member of a cluster, which has the peer links' metrics besides a node
// alone's.
func TestDashboardQueriesOnlyMetricsTheNodeExports(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "dashboards", "jindou.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("dashboards/jindou.json: %v", err)
	}
	p := startCluster(t, clusterOpts{nodes: 3}).node(0)
	resp, err := http.Get(p.HTTP + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	exported := map[string]bool{}
	for _, line := range strings.Split(string(body), "\n") {
		if name, ok := strings.CutPrefix(line, "# TYPE "); ok {
			exported[strings.Fields(name)[0]] = true
		}
	}
	metric := regexp.MustCompile(`\b(jindou|process)_[a-z_]+`)
	n := 0
	for _, panel := range dash.Panels {
		for _, target := range panel.Targets {
			for _, name := range metric.FindAllString(target.Expr, -1) {
				base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_sum"), "_count")
				if !exported[base] {
					t.Errorf("panel %q queries %s, which /metrics does not export", panel.Title, name)
				}
				n++
			}
		}
	}
	if n < 20 {
		t.Fatalf("the dashboard queries %d metrics; want its panels' queries read", n)
	}
}
