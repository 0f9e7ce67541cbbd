package http

import (
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
)

func TestMetricsCarryAcceptFailuresPerListener(t *testing.T) {
	s := newTestServer(t, Config{ConnStats: func() ConnStats {
		return ConnStats{Accept: map[string]AcceptFigures{"tcp": {Failures: 2, Refused: 5}, "ws": {Refused: 1}}}
	}})
	r := get(t, s, "/metrics")
	must200(t, r)
	var p expfmt.TextParser
	fams, err := p.TextToMetricFamilies(strings.NewReader(r.body))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	value := func(name, listener string) float64 {
		t.Helper()
		f := fams[name]
		if f == nil {
			t.Fatalf("/metrics lacks %s", name)
		}
		for _, m := range f.GetMetric() {
			if listener == "" || (len(m.GetLabel()) == 1 && m.GetLabel()[0].GetValue() == listener) {
				return m.GetCounter().GetValue()
			}
		}
		t.Fatalf("%s has no listener %q", name, listener)
		return 0
	}
	for _, c := range []struct {
		name, listener string
		want           float64
	}{
		{"jindou_accept_refused_total", "tcp", 5}, {"jindou_accept_failures_total", "tcp", 2},
		{"jindou_accept_refused_total", "ws", 1}, {"jindou_accept_failures_total", "ws", 0},
	} {
		if got := value(c.name, c.listener); got != c.want {
			t.Errorf("%s{listener=%q} = %v, want %v", c.name, c.listener, got, c.want)
		}
	}
}
