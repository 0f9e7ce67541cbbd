package http

import (
	"github.com/prometheus/client_golang/prometheus"
)

// ConnStats are the runtime's connection figures that the core does not
// see (Config.ConnStats): by client listener ("tcp", "ws"), accepts that
// failed. The API's own listener's failures are added as listener "http"
// (listener.go). Slow readers cut are metrics_budget.go's, by cause.
type ConnStats struct {
	// Accept are the listeners' accept failures.
	Accept map[string]AcceptFigures
}

// AcceptFigures are one listener's accept failures: Refused counts the
// connections answered at once and closed at the fd cap, Failures the
// accepts that failed otherwise and left a client unanswered.
type AcceptFigures struct {
	Failures, Refused int64
}

var (
	descAcceptRefused = prometheus.NewDesc(prometheus.BuildFQName(ns, "", "accept_refused_total"),
		"Client connections answered at once and closed because the process was out of file descriptors.", []string{"listener"}, nil)
	descAcceptFailures = prometheus.NewDesc(prometheus.BuildFQName(ns, "", "accept_failures_total"),
		"Accepts that failed otherwise and left a client waiting (out of memory, out of descriptors with none in reserve; the HTTP API's at the fd cap).", []string{"listener"}, nil)
)

// connsCollector exports Config.ConnStats at each scrape, even when the
// node does not answer (it asks the runtime, not the core).
type connsCollector struct{ s *Server }

func (cc *connsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descAcceptRefused
	ch <- descAcceptFailures
}

func (cc *connsCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(descAcceptFailures, prometheus.CounterValue, float64(cc.s.acceptFailures.Load()), "http")
	if cc.s.cfg.ConnStats == nil {
		return
	}
	st := cc.s.cfg.ConnStats()
	for listener, f := range st.Accept {
		ch <- prometheus.MustNewConstMetric(descAcceptRefused, prometheus.CounterValue, float64(f.Refused), listener)
		ch <- prometheus.MustNewConstMetric(descAcceptFailures, prometheus.CounterValue, float64(f.Failures), listener)
	}
}
