package e2e

import (
	"encoding/json"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestBenchToolRunsAgainstANode keeps `jindou bench` working: small
// connect, send (person and group) and idle runs against a node succeed and
// report what they counted. It asserts no timing.
func TestBenchToolRunsAgainstANode(t *testing.T) {
	p := startNode(t, nodeOpts{})
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"connect", "-n", "40", "-c", "4"}, "40 handshakes (0 failed)"},
		{[]string{"connect", "-n", "20", "-c", "4", "--ws", p.WS}, "20 handshakes (0 failed)"},
		{[]string{"send", "-m", "4", "-n", "25", "-w", "4", "--mode", "person"}, "100 acked with a seq (0 refused)"},
		{[]string{"send", "-m", "3", "-n", "20", "-w", "2", "--mode", "group"}, "60 acked with a seq (0 refused)"},
		{[]string{"idle", "-n", "50", "--settle", "0s"}, "50 connections logged in (0 failed)"},
	} {
		args := append([]string{"bench", "--tcp", p.TCP, "--http", p.HTTP, "--timeout", "60s"}, c.args...)
		out, err := exec.Command(jindouBin, args...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), c.want) {
			t.Fatalf("jindou %s: %v\n%s\nwant %q", strings.Join(args, " "), err, out, c.want)
		}
		t.Logf("jindou %s\n%s", strings.Join(c.args, " "), strings.TrimSpace(string(out)))
	}
}

// benchJSON runs `jindou bench ... --json` against p and decodes the one
// JSON object it prints on standard output (progress goes to standard
// error).
func benchJSON(t *testing.T, p *proc, v any, args ...string) {
	t.Helper()
	args = append([]string{"bench", "--tcp", p.TCP, "--http", p.HTTP, "--timeout", "60s"}, append(args, "--json")...)
	cmd := exec.Command(jindouBin, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("jindou %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.String())
	}
	if err := json.Unmarshal(out, v); err != nil {
		t.Fatalf("jindou %s: not one JSON object: %v\n%s", strings.Join(args, " "), err, out)
	}
	t.Logf("jindou %s\n%s", strings.Join(args[7:], " "), strings.TrimSpace(string(out)))
}

// TestBenchSummariesAreConsistent checks the JSON summaries of `bench
// send` and `bench fanout`: every send acknowledged and counted once,
// every member's deliveries counted, the percentiles in order, and CPU and
// disk figures present. The runs are big enough that the server's CPU
// spans more than a clock tick (10 ms), so that CPU per message is > 0; no
// figure is compared with a speed.
func TestBenchSummariesAreConsistent(t *testing.T) {
	p := startNode(t, nodeOpts{})
	type latency struct {
		Count int64
		P50   float64 `json:"p50_us"`
		P90   float64 `json:"p90_us"`
		P99   float64 `json:"p99_us"`
		Max   float64 `json:"max_us"`
	}
	var send struct {
		Sent, Acked, Refused int64
		Latency              latency `json:"sendack_latency"`
		CPU                  float64 `json:"cpu_us_per_acked_message"`
		Source               string  `json:"server_cpu_source"`
		Stored               float64 `json:"messages_stored"`
		Commits              float64 `json:"disk_commits"`
		PerSync              float64 `json:"messages_per_sync"`
		Rate                 float64 `json:"acked_per_sec"`
	}
	// --pid: the server's CPU from /proc.
	benchJSON(t, p, &send, "send", "-m", "8", "-n", "250", "-w", "8", "--pid", strconv.Itoa(p.cmd.Process.Pid))
	l := send.Latency
	if send.Sent != 2000 || send.Acked != send.Sent || send.Refused != 0 || l.Count != send.Acked {
		t.Errorf("send: sent %d acked %d refused %d latencies %d; want 2000 sent, all acked once", send.Sent, send.Acked, send.Refused, l.Count)
	}
	if !(0 < l.P50 && l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.Max) {
		t.Errorf("send: latency percentiles out of order: %+v", l)
	}
	if send.CPU <= 0 || !strings.HasPrefix(send.Source, "/proc/") || send.Rate <= 0 {
		t.Errorf("send: CPU per message %v µs from %q, %v/s; want > 0 from /proc", send.CPU, send.Source, send.Rate)
	}
	if send.Stored < float64(send.Acked) || send.Commits <= 0 || send.PerSync != send.Stored/send.Commits {
		t.Errorf("send: %v stored in %v commits, %v per sync; want at least the %d acked, in some commits", send.Stored, send.Commits, send.PerSync, send.Acked)
	}

	var fan struct {
		Members, Messages, Acked, Refused int64
		Expected                          int64   `json:"expected_deliveries"`
		Delivered                         int64   `json:"deliveries"`
		Last                              float64 `json:"last_delivery_ms"`
		Rate                              float64 `json:"deliveries_per_sec"`
		CPU                               float64 `json:"cpu_us_per_delivery"`
		Source                            string  `json:"server_cpu_source"`
		Latency                           latency `json:"sendack_latency"`
	}
	// No --pid: the server's CPU from /metrics. Over WebSocket, so both
	// transports carry a run.
	benchJSON(t, p, &fan, "fanout", "-n", "100", "-m", "40", "--ws", p.WS)
	// The 4 senders are members; nobody counts their own messages.
	if fan.Members != 100 || fan.Acked != 40 || fan.Refused != 0 || fan.Expected != 100*40-40 || fan.Delivered != fan.Expected {
		t.Errorf("fanout: %d members, %d acked (%d refused), %d of %d deliveries; want 40 acked, 3960 deliveries",
			fan.Members, fan.Acked, fan.Refused, fan.Delivered, fan.Expected)
	}
	if fan.CPU <= 0 || !strings.Contains(fan.Source, "process_cpu_seconds_total") || fan.Last <= 0 || fan.Rate <= 0 {
		t.Errorf("fanout: CPU per delivery %v µs from %q, last delivery at %v ms, %v/s; want all > 0", fan.CPU, fan.Source, fan.Last, fan.Rate)
	}
	if fan.Latency.Count != fan.Acked || fan.Latency.P50 > fan.Latency.P99 {
		t.Errorf("fanout: SENDACK latencies %+v for %d acked", fan.Latency, fan.Acked)
	}
}
