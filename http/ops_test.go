package http

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	nethttp "net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"

	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/node/proto"
)

func convForJSON() node.Conversation {
	return node.Conversation{Channel: node.ChannelKey{Type: proto.ChannelGroup, ID: "g"}}
}

func TestHealthAnswersWhileServing(t *testing.T) {
	s := New(Config{Logger: quiet}, testNode) // not ready: health does not care
	for _, p := range []string{"/healthz", "/health"} {
		if r := get(t, s, p); r.code != 200 || strings.TrimSpace(r.body) != `{"status":"ok"}` {
			t.Fatalf("%s: %d %s", p, r.code, r.body)
		}
	}
}

func TestReadyzIs503UntilTheComponentsAreReady(t *testing.T) {
	s := New(Config{Logger: quiet}, testNode)
	r := get(t, s, "/readyz")
	if r.code != 503 || r.object(t)["status"] != "not ready" || r.object(t)["reason"] == "" {
		t.Fatalf("before SetComponentsReady: %d %s", r.code, r.body)
	}
	s.SetComponentsReady(false, "webhooks: starting")
	if r := get(t, s, "/readyz"); r.code != 503 || r.object(t)["reason"] != "webhooks: starting" {
		t.Fatalf("webhooks not ready: %d %s", r.code, r.body)
	}
	s.SetComponentsReady(true, "")
	if r := get(t, s, "/readyz"); r.code != 200 || strings.TrimSpace(r.body) != `{"status":"ready"}` {
		t.Fatalf("ready: %d %s", r.code, r.body)
	}
}

// stuck never answers; late answers after a delay.
type stuck struct{}

func (stuck) Submit(node.Request, func(any, error)) {}

type late struct{ d time.Duration }

func (l late) Submit(_ node.Request, done func(any, error)) {
	time.AfterFunc(l.d, func() { done(nil, nil) })
}

func TestARequestTheNodeDoesNotAnswerIs503AfterTheTimeout(t *testing.T) {
	for _, n := range []Submitter{stuck{}, late{200 * time.Millisecond}} {
		s := New(Config{Logger: quiet, RequestTimeout: 50 * time.Millisecond}, n)
		s.SetComponentsReady(true, "")
		start := time.Now()
		r := post(t, s, "/user/token", `{"uid":"u","token":"t"}`)
		if r.code != 503 || r.object(t)["status"] != float64(503) {
			t.Fatalf("%T: want 503, got %d %s", n, r.code, r.body)
		}
		if el := time.Since(start); el > 2*time.Second {
			t.Fatalf("%T: answered after %v", n, el)
		}
		if r := get(t, s, "/readyz"); r.code != 503 {
			t.Fatalf("%T: readyz with a silent node: %d %s", n, r.code, r.body)
		}
	}
	time.Sleep(250 * time.Millisecond) // the late done runs without a reader
}

func TestMetricsAreParseableAndCarryTheLatencyHistograms(t *testing.T) {
	s := newTestServer(t, Config{})
	group(t, s, "xg1", "xa")
	sendMsg(t, s, `{"from_uid":"xa","channel_id":"xg1","channel_type":2,"payload":"aGk="}`)
	r := get(t, s, "/metrics")
	must200(t, r)
	var p expfmt.TextParser
	fams, err := p.TextToMetricFamilies(strings.NewReader(r.body))
	if err != nil {
		t.Fatalf("parse /metrics: %v\n%s", err, r.body)
	}
	for _, name := range []string{"jindou_connections", "jindou_online_connections", "jindou_connections_accepted_total",
		"jindou_client_frames_in_total", "jindou_client_frames_out_total", "jindou_client_bytes_in_total",
		"jindou_client_bytes_out_total", "jindou_messages_stored_total", "jindou_retry_queue",
		"jindou_raft_proposals_total", "jindou_raft_applied_entries_total", "jindou_slots", "jindou_leader_slots",
		"jindou_caught_up_slots", "jindou_disk_commits_total", "jindou_disk_retries_total",
		"jindou_http_requests_total", "go_goroutines", "process_cpu_seconds_total"} {
		if fams[name] == nil {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	if v := fams["jindou_slots"].GetMetric()[0].GetGauge().GetValue(); v != 8 {
		t.Errorf("jindou_slots = %v, want 8", v)
	}
	if v := fams["jindou_messages_stored_total"].GetMetric()[0].GetCounter().GetValue(); v < 1 {
		t.Errorf("jindou_messages_stored_total = %v", v)
	}
	for _, name := range []string{"jindou_send_latency_seconds", "jindou_http_send_duration_seconds"} {
		f := fams[name]
		if f == nil {
			t.Fatalf("/metrics lacks histogram %s", name)
		}
		h := f.GetMetric()[0].GetHistogram()
		if len(h.GetBucket()) != len(node.SendLatencyBuckets)+1 { // and +Inf
			t.Errorf("%s: %d buckets, want %d", name, len(h.GetBucket()), len(node.SendLatencyBuckets)+1)
		}
		prev := uint64(0)
		for _, b := range h.GetBucket() {
			if b.GetCumulativeCount() < prev {
				t.Errorf("%s: buckets not cumulative", name)
			}
			prev = b.GetCumulativeCount()
		}
		if prev != h.GetSampleCount() {
			t.Errorf("%s: +Inf bucket %d, count %d", name, prev, h.GetSampleCount())
		}
	}
	if c := fams["jindou_http_send_duration_seconds"].GetMetric()[0].GetHistogram().GetSampleCount(); c != 1 {
		t.Errorf("http send histogram count %d, want 1", c)
	}
}

func TestCumulativeBucketsAddUp(t *testing.T) {
	var counts [len(node.SendLatencyBuckets) + 1]int64
	counts[0], counts[3], counts[len(counts)-1] = 2, 5, 1
	b, n := cumulative(counts)
	if n != 8 || b[node.SendLatencyBuckets[0]] != 2 || b[node.SendLatencyBuckets[2]] != 2 ||
		b[node.SendLatencyBuckets[3]] != 7 || b[node.SendLatencyBuckets[len(node.SendLatencyBuckets)-1]] != 7 {
		t.Fatalf("buckets %v count %d", b, n)
	}
}

// connectClient opens a WKProto connection as uid and sends CONNECT.
func connectClient(t *testing.T, uid string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", testHost.TCPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	key, err := proto.NewPrivateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	frame, err := proto.AppendFrame(nil, &proto.Connect{Version: 4, DeviceFlag: proto.DeviceWeb, DeviceID: "dev-" + uid,
		UID: uid, Token: "any", ClientTimestamp: time.Now().UnixMilli(), ClientKey: proto.EncodePublicKey(key.PublicKey())}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write(frame); err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = io.Copy(io.Discard, c) }()
	return c
}

func TestVarzConnzAndOnlineStatusDescribeALiveConnection(t *testing.T) {
	s := newTestServer(t, Config{TCPAddr: "im.example:5100", WSAddr: "ws://im.example:5200", WSSAddr: "wss://im.example",
		ServerID: 7, Version: "v-test"})
	conn := connectClient(t, "vz1")
	local := conn.LocalAddr().(*net.TCPAddr)

	var cz connzJSON
	deadline := time.Now().Add(5 * time.Second)
	for {
		get(t, s, "/connz?uid=vz1").json(t, &cz)
		var online []node.OnlineConn
		post(t, s, "/user/onlinestatus", `["vz1"]`).json(t, &online)
		if len(cz.Connections) == 1 && len(online) == 1 {
			if online[0] != (node.OnlineConn{UID: "vz1", DeviceFlag: uint8(proto.DeviceWeb), Online: 1}) {
				t.Fatalf("onlinestatus: %+v", online)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("connection never listed: %+v", cz)
		}
		time.Sleep(20 * time.Millisecond)
	}
	ci := cz.Connections[0]
	if ci.UID != "vz1" || ci.IP != "127.0.0.1" || ci.Port != local.Port || ci.DeviceFlag != uint8(proto.DeviceWeb) ||
		ci.DeviceID != "dev-vz1" || ci.Version == 0 || !strings.HasSuffix(ci.Uptime, "s") || !strings.HasSuffix(ci.Idle, "s") ||
		ci.InMsgs < 1 || cz.Total != 1 || cz.Limit != connzDefaultLimit || cz.Offset != 0 {
		t.Fatalf("connz: %+v", cz)
	}
	get(t, s, "/connz?uid=vz1&offset=1&limit=5").json(t, &cz)
	if len(cz.Connections) != 0 || cz.Total != 1 || cz.Offset != 1 || cz.Limit != 5 {
		t.Fatalf("connz page 2: %+v", cz)
	}

	var vz varzJSON
	r := get(t, s, "/varz")
	r.json(t, &vz)
	if vz.ServerID != "7" || vz.Version != "v-test" || vz.Connections < 1 || vz.InMsgs < 1 || vz.InBytes < 1 ||
		vz.TCPAddr != "im.example:5100" || vz.WSAddr != "ws://im.example:5200" || vz.Slots != 8 || vz.LeaderSlots != 8 ||
		!strings.HasSuffix(vz.Uptime, "s") || vz.APIURL == "" {
		t.Fatalf("varz: %s", r.body)
	}
	for _, k := range []string{"server_id", "version", "connections", "uptime", "in_msgs", "out_msgs", "in_bytes", "out_bytes",
		"retry_queue", "tcp_addr", "ws_addr", "api_url", "slots", "leader_slots", "messages_stored"} {
		if _, ok := r.object(t)[k]; !ok {
			t.Errorf("varz lacks %s", k)
		}
	}
	r = get(t, s, "/route?uid=vz1")
	if strings.TrimSpace(r.body) != `{"tcp_addr":"im.example:5100","ws_addr":"ws://im.example:5200","wss_addr":"wss://im.example"}` {
		t.Fatalf("route: %s", r.body)
	}
}

func TestHumanDurationsMatchWuKongIM(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", 59 * time.Second: "59s", 61 * time.Second: "1m1s", 3*time.Hour + 2*time.Second: "3h0m2s",
		49 * time.Hour: "2d1h0m0s", 366 * 24 * time.Hour: "1y1d0h0m0s",
	} {
		if got := humanDuration(d); got != want {
			t.Errorf("%v: %q, want %q", d, got, want)
		}
	}
}

func TestStartServesOnTheBoundAddressAndStopShutsDown(t *testing.T) {
	s := New(Config{Addr: "127.0.0.1:0", Logger: quiet}, testNode)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	addr := s.Addr().String()
	res, err := nethttp.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("healthz over TCP: %d", res.StatusCode)
	}

	// A second server on the same address fails, naming it.
	other := New(Config{Addr: addr, Logger: quiet}, testNode)
	if err := other.Start(); err == nil || !strings.Contains(err.Error(), addr) {
		t.Fatalf("start on a taken address: %v", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := nethttp.Get(fmt.Sprintf("http://%s/healthz", addr)); err == nil {
		t.Fatal("still serving after Stop")
	}
}

func TestProfilerIsServedBehindTheManagerToken(t *testing.T) {
	h := New(Config{ManagerToken: "m", Ops: Ops{Pprof: PprofOn}}, stuck{}).Handler()
	get := func(token string) int {
		req := httptest.NewRequest(nethttp.MethodGet, "/debug/pprof/", nil)
		if token != "" {
			req.Header.Set("token", token)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	if code := get(""); code != nethttp.StatusUnauthorized {
		t.Fatalf("the profiler without the manager token: %d, want 401", code)
	}
	if code := get("m"); code != nethttp.StatusOK {
		t.Fatalf("the profiler with the manager token: %d, want 200", code)
	}
}
