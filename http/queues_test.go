package http

import (
	"errors"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/jindou-im/jindou/node"
)

// statsNode answers node.Stats with its reply and refuses anything else.
type statsNode struct{ reply node.StatsReply }

func (n statsNode) Submit(req node.Request, done func(any, error)) {
	if _, ok := req.(node.Stats); ok {
		done(n.reply, nil)
		return
	}
	done(nil, errors.New("statsNode: only Stats"))
}

// Figures that differ from each other, so that a field shown in another's
// place is caught.
var (
	deferredStats = node.StatsReply{Deferred: 3, DeferredHigh: 7, Overloaded: 2, Slots: 4}
	fixedQueues   = QueueStats{
		Loops: map[string]QueueFigures{
			"slots-0": {Length: 2, HighWater: 9},
			"gw-0":    {Length: 0, HighWater: 4},
		},
		Disk:         QueueFigures{Length: 1, HighWater: 5},
		DiskMaxBatch: 6,
		Timers:       QueueFigures{Length: 10, HighWater: 12},
	}
)

func TestVarzShowsDeferredRequestsAndTheRuntimeQueues(t *testing.T) {
	s := New(Config{Logger: quiet, QueueStats: func() QueueStats { return fixedQueues }}, statsNode{deferredStats})
	r := get(t, s, "/varz")
	must200(t, r)
	var vz struct {
		Deferred     *int                    `json:"deferred"`
		DeferredHigh *int64                  `json:"deferred_high"`
		Overloaded   *int64                  `json:"overloaded"`
		LoopQueues   map[string]QueueFigures `json:"loop_queues"`
		DiskQueue    *diskQueueJSON          `json:"disk_queue"`
		TimerQueue   *QueueFigures           `json:"timer_queue"`
	}
	r.json(t, &vz)
	if vz.Deferred == nil || *vz.Deferred != 3 || vz.DeferredHigh == nil || *vz.DeferredHigh != 7 ||
		vz.Overloaded == nil || *vz.Overloaded != 2 {
		t.Errorf("deferred figures: %s", r.body)
	}
	if len(vz.LoopQueues) != 2 || vz.LoopQueues["slots-0"] != fixedQueues.Loops["slots-0"] ||
		vz.LoopQueues["gw-0"] != fixedQueues.Loops["gw-0"] {
		t.Errorf("loop_queues %+v, want %+v", vz.LoopQueues, fixedQueues.Loops)
	}
	if want := (diskQueueJSON{QueueFigures: fixedQueues.Disk, MaxBatch: 6}); vz.DiskQueue == nil || *vz.DiskQueue != want {
		t.Errorf("disk_queue %+v, want %+v", vz.DiskQueue, want)
	}
	if vz.TimerQueue == nil || *vz.TimerQueue != fixedQueues.Timers {
		t.Errorf("timer_queue %+v, want %+v", vz.TimerQueue, fixedQueues.Timers)
	}
	if !strings.Contains(r.body, `"slots-0":{"length":2,"high_water":9}`) ||
		!strings.Contains(r.body, `"disk_queue":{"length":1,"high_water":5,"max_batch":6}`) {
		t.Errorf("queue figures are not spelled as docs/API.md says: %s", r.body)
	}
}

func TestVarzWithoutQueueStatsLeavesTheQueuesOut(t *testing.T) {
	s := New(Config{Logger: quiet}, statsNode{deferredStats})
	r := get(t, s, "/varz")
	must200(t, r)
	obj := r.object(t)
	for _, k := range []string{"loop_queues", "disk_queue", "timer_queue"} {
		if _, ok := obj[k]; ok {
			t.Errorf("varz has %s without Config.QueueStats: %s", k, r.body)
		}
	}
	if obj["overloaded"] != float64(2) {
		t.Errorf("overloaded missing without Config.QueueStats: %s", r.body)
	}
}

// scrape reads /metrics and parses it.
func scrape(t *testing.T, s *Server) map[string]*dto.MetricFamily {
	t.Helper()
	r := get(t, s, "/metrics")
	must200(t, r)
	var p expfmt.TextParser
	fams, err := p.TextToMetricFamilies(strings.NewReader(r.body))
	if err != nil {
		t.Fatalf("parse /metrics: %v\n%s", err, r.body)
	}
	return fams
}

// value is the gauge or counter value of name's sample whose labels are
// labels (name, value pairs), or false if there is none.
func value(fams map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.GetMetric() {
		if len(m.GetLabel())*2 != len(labels) {
			continue
		}
		for i, l := range m.GetLabel() {
			if l.GetName() != labels[2*i] || l.GetValue() != labels[2*i+1] {
				continue next
			}
		}
		switch f.GetType() {
		case dto.MetricType_GAUGE:
			return m.GetGauge().GetValue(), true
		case dto.MetricType_COUNTER:
			return m.GetCounter().GetValue(), true
		}
	}
	return 0, false
}

func checkQueueMetrics(t *testing.T, fams map[string]*dto.MetricFamily) {
	t.Helper()
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"jindou_loop_queue_length", []string{"loop", "slots-0"}, 2},
		{"jindou_loop_queue_high_water", []string{"loop", "slots-0"}, 9},
		{"jindou_loop_queue_length", []string{"loop", "gw-0"}, 0},
		{"jindou_loop_queue_high_water", []string{"loop", "gw-0"}, 4},
		{"jindou_disk_queue_length", nil, 1},
		{"jindou_disk_queue_high_water", nil, 5},
		{"jindou_disk_batch_max", nil, 6},
		{"jindou_timer_queue_length", nil, 10},
		{"jindou_timer_queue_high_water", nil, 12},
	} {
		if got, ok := value(fams, c.name, c.labels...); !ok || got != c.want {
			t.Errorf("%s%v = %v (present %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
	for _, name := range []string{"jindou_loop_queue_length", "jindou_disk_queue_high_water", "jindou_disk_batch_max"} {
		if fams[name].GetType() != dto.MetricType_GAUGE {
			t.Errorf("%s is a %v, want a gauge", name, fams[name].GetType())
		}
	}
}

func TestMetricsShowDeferredRequestsAndTheRuntimeQueues(t *testing.T) {
	s := New(Config{Logger: quiet, QueueStats: func() QueueStats { return fixedQueues }}, statsNode{deferredStats})
	fams := scrape(t, s)
	checkQueueMetrics(t, fams)
	wantMetrics(t, fams, []metricWant{ // diskfull_test.go
		{"jindou_slot_deferred", dto.MetricType_GAUGE, 3},
		{"jindou_slot_deferred_high_water", dto.MetricType_GAUGE, 7},
		{"jindou_slot_overloaded_total", dto.MetricType_COUNTER, 2},
	})
}

// TestMetricsShowTheQueuesWhenTheNodeDoesNotAnswer: a node too busy to
// answer its stats is when its queues matter most.
func TestMetricsShowTheQueuesWhenTheNodeDoesNotAnswer(t *testing.T) {
	s := New(Config{Logger: quiet, RequestTimeout: 20 * time.Millisecond,
		QueueStats: func() QueueStats { return fixedQueues }}, stuck{})
	fams := scrape(t, s)
	if got, ok := value(fams, "jindou_stats_scrape_error"); !ok || got != 1 {
		t.Fatalf("jindou_stats_scrape_error = %v (present %v), want 1", got, ok)
	}
	checkQueueMetrics(t, fams)
}
