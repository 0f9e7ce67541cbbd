package http

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/jindou-im/jindou/node"
)

// The memory budget's figures: slow readers cut, by cause, and what the
// budgets hold now. The core cuts for its resend buffers (node.Stats), the
// runtime for its output backlogs (Config.QueueStats).
var (
	descSlowCuts = prometheus.NewDesc(prometheus.BuildFQName(ns, "", "slow_reader_cuts_total"),
		"Connections cut as slow readers, by cause: resend_conn_cap (its unacknowledged RECVs passed resend_buffer_size), "+
			"resend_budget (resend_budget was spent and it held the most), output_cap (it owed its client more than max_pending_output), "+
			"output_budget (max_total_pending_output was spent and it owed a large share).", []string{"cause"}, nil)
	descResendBytes  = desc("resend_buffer_bytes", "Bytes of RECVs kept for resend until their RECVACK, over every connection (bounded by resend_budget).")
	descOutputBytes  = desc("pending_output_bytes", "Bytes the connections owe their clients beyond the socket buffers (bounded by max_total_pending_output).")
	descDrainRefused = desc("send_drain_refused_total", "SENDs refused (NodeNotMatch, not stored) because the node was stopping.")
)

// scrapeStats reads node.Stats for a collector, within the scrape's time.
func (s *Server) scrapeStats() (node.StatsReply, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), min(s.cfg.RequestTimeout, 5*time.Second))
	defer cancel()
	v, err := s.call(ctx, node.Stats{})
	st, ok := v.(node.StatsReply)
	return st, err == nil && ok
}

// OutputFigures are the runtime's output backlogs: what they hold now, and
// the connections cut past their own cap and past the total budget.
type OutputFigures struct {
	PendingBytes, CapCuts, BudgetCuts int64
}

// budgetCollector exports them.
type budgetCollector struct{ s *Server }

func (bc *budgetCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descSlowCuts, descResendBytes, descOutputBytes, descDrainRefused} {
		ch <- d
	}
}

func (bc *budgetCollector) Collect(ch chan<- prometheus.Metric) {
	if qs := bc.s.cfg.QueueStats; qs != nil {
		o := qs().Output
		ch <- prometheus.MustNewConstMetric(descSlowCuts, prometheus.CounterValue, float64(o.CapCuts), "output_cap")
		ch <- prometheus.MustNewConstMetric(descSlowCuts, prometheus.CounterValue, float64(o.BudgetCuts), "output_budget")
		ch <- prometheus.MustNewConstMetric(descOutputBytes, prometheus.GaugeValue, float64(o.PendingBytes))
	}
	st, ok := bc.s.scrapeStats()
	if !ok {
		return // metrics.go's collector reports the failed scrape
	}
	ch <- prometheus.MustNewConstMetric(descSlowCuts, prometheus.CounterValue, float64(st.SlowCutsConnCap), "resend_conn_cap")
	ch <- prometheus.MustNewConstMetric(descSlowCuts, prometheus.CounterValue, float64(st.SlowCutsBudget), "resend_budget")
	ch <- prometheus.MustNewConstMetric(descResendBytes, prometheus.GaugeValue, float64(st.ResendBytes))
	ch <- prometheus.MustNewConstMetric(descDrainRefused, prometheus.CounterValue, float64(st.DrainRefused))
}
