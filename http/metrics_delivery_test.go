package http

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// metricValue is the value of the series line that starts with series
// (name and labels) in a /metrics body, and whether there is one.
func metricValue(body, series string) (float64, bool) {
	for line := range strings.SplitSeq(body, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			return v, err == nil
		}
	}
	return 0, false
}

// hostQueueStats hands the shared host's disk commit histogram to /metrics,
// as the binary does.
func hostQueueStats() QueueStats {
	dc := testHost.DiskCommitLatency()
	return QueueStats{DiskCommit: DurationFigures{Bounds: dc.Bounds, Counts: dc.Counts, SumSeconds: dc.Sum.Seconds()}}
}

func TestMetricsExportDeliveryWebhookAndSnapshotFigures(t *testing.T) {
	s := newTestServer(t, Config{QueueStats: hostQueueStats})
	group(t, s, "metrics-g", "m1", "m2")
	sendMsg(t, s, `{"channel_id":"metrics-g","channel_type":2,"from_uid":"m1","payload":"`+b64("x")+`"}`)
	body := get(t, s, "/metrics").body
	for _, name := range []string{"jindou_recv_sent_total", "jindou_recvack_total", "jindou_recvack_latency_seconds_count",
		"jindou_offline_recipients_total", "jindou_webhook_in_flight", "jindou_webhook_retrying_slots",
		"jindou_raft_snapshots_sent_total", "jindou_raft_snapshots_applied_total", "jindou_raft_snapshot_chunks_total"} {
		if _, ok := metricValue(body, name); !ok {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	// The send above was stored: at least one group commit was timed.
	if n, _ := metricValue(body, "jindou_disk_commit_duration_seconds_count"); n < 1 {
		t.Errorf("jindou_disk_commit_duration_seconds_count is %v after a stored send", n)
	}
	if _, ok := metricValue(body, `jindou_disk_commit_duration_seconds_bucket{le="+Inf"}`); !ok {
		t.Error("the disk commit histogram has no +Inf bucket")
	}
}

func TestEverySlotHasItsOwnSeriesAndItsProposalsCountSends(t *testing.T) {
	s := newTestServer(t, Config{})
	slotOf := regexp.MustCompile(`(?m)^jindou_slot_is_leader\{slot="(\d+)"\} 1$`)
	before := get(t, s, "/metrics").body
	if n := len(slotOf.FindAllString(before, -1)); n != 8 {
		t.Fatalf("%d slots led by the node of one, want its 8 (jindou_slot_is_leader)", n)
	}
	sum := func(body, name string) float64 {
		var total float64
		for i := range 8 {
			v, ok := metricValue(body, fmt.Sprintf(`%s{slot="%d"}`, name, i))
			if !ok {
				t.Fatalf("/metrics lacks %s for slot %d", name, i)
			}
			total += v
		}
		return total
	}
	group(t, s, "metrics-slots", "s1")
	const sends = 3
	for i := range sends {
		sendMsg(t, s, fmt.Sprintf(`{"channel_id":"metrics-slots","channel_type":2,"from_uid":"s1","client_msg_no":"ms%d","payload":%q}`, i, b64("x")))
	}
	after := get(t, s, "/metrics").body
	// Other tests share the node: at least this test's proposals (the
	// channel and the sends) were counted, each timed to its apply.
	if d := sum(after, "jindou_slot_proposals_total") - sum(before, "jindou_slot_proposals_total"); d < sends+1 {
		t.Fatalf("the slots' proposals grew by %v, want at least %d", d, sends+1)
	}
	if d := sum(after, "jindou_slot_commit_duration_seconds_count") - sum(before, "jindou_slot_commit_duration_seconds_count"); d < sends+1 {
		t.Fatalf("the slots' timed applies grew by %v, want at least %d", d, sends+1)
	}
	for _, name := range []string{"jindou_slot_leader_id", "jindou_slot_term", "jindou_slot_applied_index", "jindou_slot_commit_index",
		"jindou_slot_log_entries", "jindou_slot_leaderships_total", "jindou_slot_snapshots_sent_total"} {
		sum(after, name)
	}
	if v := sum(after, "jindou_slot_leaderships_total"); v != 8 {
		t.Fatalf("the slots became led %v times on a node of one, want once each", v)
	}
}

func TestRequestDurationsAreLabelledByRouteTemplateNotPath(t *testing.T) {
	s := newTestServer(t, Config{})
	get(t, s, "/web/admin.js")
	get(t, s, "/web/style.css")
	get(t, s, "/no/such/route")
	body := get(t, s, "/metrics").body
	if strings.Contains(body, `route="/web/admin.js"`) || strings.Contains(body, `route="/no/such/route"`) {
		t.Fatal("a request's raw path is a route label")
	}
	re := regexp.MustCompile(`jindou_http_request_duration_seconds_count\{method="GET",route="(/web/[^"]*)"\} (\d+)`)
	m := re.FindAllStringSubmatch(body, -1)
	if len(m) != 1 || m[0][2] != "2" {
		t.Fatalf("the two files of /web are timed as %v, want one route's series of 2", m)
	}
}
