package http

import (
	"encoding/json"
	nethttp "net/http"
	"strings"
	"testing"

	"github.com/jindou-im/jindou/node"
	dto "github.com/prometheus/client_model/go"
)

// fullNode answers every request as a node on a full disk does, and its
// stats with an episode under way.
type fullNode struct{}

func (fullNode) Submit(req node.Request, done func(any, error)) {
	if _, ok := req.(node.Stats); ok {
		done(node.StatsReply{DiskFull: true, DiskFullEpisodes: 2, DiskFullRefused: 9}, nil)
		return
	}
	done(nil, node.ErrDiskFull)
}

// A write refused for a full disk is a 503 with the JSON envelope naming
// the cause, and /metrics shows the episode.
func TestWritesRefusedForAFullDiskAre503WithAJSONBody(t *testing.T) {
	s := New(Config{Logger: quiet}, fullNode{})
	r := do(t, s, "POST", "/message/send", `{"from_uid":"a","channel_id":"b","channel_type":1,"payload":"aGk="}`)
	var body struct {
		Status int    `json:"status"`
		Msg    string `json:"msg"`
	}
	if err := json.Unmarshal([]byte(r.body), &body); err != nil || r.code != nethttp.StatusServiceUnavailable ||
		body.Status != nethttp.StatusServiceUnavailable || !strings.Contains(body.Msg, "disk full") {
		t.Fatalf("a send on a full disk: %d %s (%v), want 503 with a disk-full msg", r.code, r.body, err)
	}
	wantMetrics(t, scrape(t, s), []metricWant{
		{"jindou_disk_full", dto.MetricType_GAUGE, 1},
		{"jindou_disk_full_episodes_total", dto.MetricType_COUNTER, 2},
		{"jindou_disk_full_refused_total", dto.MetricType_COUNTER, 9},
	})
}

// metricWant is a metric's expected type and value.
type metricWant struct {
	name string
	typ  dto.MetricType
	want float64
}

// wantMetrics checks the scraped families against want.
func wantMetrics(t *testing.T, fams map[string]*dto.MetricFamily, want []metricWant) {
	t.Helper()
	for _, c := range want {
		if got, ok := value(fams, c.name); !ok || got != c.want || fams[c.name].GetType() != c.typ {
			t.Errorf("%s = %v (present %v), want %v %v", c.name, got, ok, c.typ, c.want)
		}
	}
}
