package http

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/jindou-im/jindou/node"
)

// Metric names are prefixed with "jindou_".
const ns = "jindou"

func (s *Server) initMetrics() {
	s.reg = prometheus.NewRegistry()
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: "http",
		Name: "requests_total", Help: "HTTP API requests by route, method and status code."},
		[]string{"route", "method", "code"})
	s.sendLatency = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Subsystem: "http",
		Name: "send_duration_seconds", Help: "Time to answer a successful /message/send (the message is durable).",
		Buckets: node.SendLatencyBuckets[:]})
	s.reg.MustRegister(s.requests, s.sendLatency, &nodeCollector{s: s},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.reg.MustRegister(&deliveryCollector{s: s}, &slotsCollector{s: s}) // metrics_delivery.go, metrics_slots.go
	s.metricsHandler = promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

func desc(name, help string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(ns, "", name), help, nil, nil)
}

// The node's figures, read with node.Stats at each scrape.
var (
	descConnections    = desc("connections", "Open client connections.")
	descOnline         = desc("online_connections", "Client connections past CONNACK.")
	descAccepted       = desc("connections_accepted_total", "Client connections accepted since start.")
	descInMsgs         = desc("client_frames_in_total", "Frames received from clients.")
	descOutMsgs        = desc("client_frames_out_total", "Frames sent to clients.")
	descInBytes        = desc("client_bytes_in_total", "Bytes received from clients.")
	descOutBytes       = desc("client_bytes_out_total", "Bytes sent to clients.")
	descStored         = desc("messages_stored_total", "Messages stored since start.")
	descRetryQueue     = desc("retry_queue", "RECVs awaiting RECVACK.")
	descSendLatency    = desc("send_latency_seconds", "Client SEND received to SENDACK written.")
	descProposals      = desc("raft_proposals_total", "Raft proposals made.")
	descApplied        = desc("raft_applied_entries_total", "Raft entries applied.")
	descSlots          = desc("slots", "Slots hosted by this node.")
	descLeaderSlots    = desc("leader_slots", "Slots this node leads.")
	descCaughtUpSlots  = desc("caught_up_slots", "Slots caught up and ready to serve.")
	descDiskCommits    = desc("disk_commits_total", "Disk commits.")
	descDiskRetries    = desc("disk_retries_total", "Disk commits retried.")
	descScrapeFailures = desc("stats_scrape_error", "1 when the node did not answer the stats request of this scrape.")
	descDeferred       = desc("slot_deferred", "Requests waiting now for their slots to catch up.")
	descDeferredHigh   = desc("slot_deferred_high_water", "The most requests that waited at once in one slot loop for slots to catch up.")
	descOverloaded     = desc("slot_overloaded_total", "Requests refused because too many already waited for slots to catch up.")
	descHookBacklog    = desc("webhook_backlog", "Stored messages the webhook receiver has not yet acknowledged.")
	descHookOldest     = desc("webhook_oldest_undelivered_seconds", "Age of the oldest message the webhook receiver has not yet acknowledged (0: none).")
	descHookDelivered  = desc("webhook_delivered_total", "Messages the webhook receiver acknowledged.")
	descHookPosts      = desc("webhook_posts_total", "Webhook POSTs made, retries included.")
	descHookFailures   = desc("webhook_failures_total", "Webhook POSTs that failed (refused, timed out, not 200); each is retried.")
	descHookStatusLost = desc("webhook_status_dropped_total", "user.onlinestatus lines dropped while the receiver failed too long.")
)

// The runtime's queues, read with Config.QueueStats at each scrape, even
// when the node does not answer: a backlog is when they matter most.
var (
	descLoopQueue = prometheus.NewDesc(prometheus.BuildFQName(ns, "", "loop_queue_length"),
		"Events waiting in a loop's queue.", []string{"loop"}, nil)
	descLoopQueueHigh = prometheus.NewDesc(prometheus.BuildFQName(ns, "", "loop_queue_high_water"),
		"The most events that ever waited in a loop's queue.", []string{"loop"}, nil)
	descDiskQueue      = desc("disk_queue_length", "Disk commits waiting for the disk writer.")
	descDiskQueueHigh  = desc("disk_queue_high_water", "The most disk commits that ever waited for the disk writer.")
	descDiskBatchMax   = desc("disk_batch_max", "The most disk commits run back to back as one group commit.")
	descTimerQueue     = desc("timer_queue_length", "Timers armed in the runtime's timer heap.")
	descTimerQueueHigh = desc("timer_queue_high_water", "The most timers ever armed at once.")
)

// nodeCollector asks the node for its stats at each scrape.
type nodeCollector struct{ s *Server }

func (nc *nodeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descConnections, descOnline, descAccepted, descInMsgs, descOutMsgs,
		descInBytes, descOutBytes, descStored, descRetryQueue, descSendLatency, descProposals, descApplied,
		descSlots, descLeaderSlots, descCaughtUpSlots, descDiskCommits, descDiskRetries, descScrapeFailures,
		descDeferred, descDeferredHigh, descOverloaded, descHookBacklog, descHookOldest, descHookDelivered,
		descHookPosts, descHookFailures, descHookStatusLost, descLoopQueue, descLoopQueueHigh, descDiskQueue,
		descDiskQueueHigh, descDiskBatchMax, descTimerQueue, descTimerQueueHigh} {
		ch <- d
	}
	for _, d := range diskDescs { // metrics_disk.go
		ch <- d
	}
}

func (nc *nodeCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	if qs := nc.s.cfg.QueueStats; qs != nil {
		q := qs()
		for name, f := range q.Loops {
			gauge(descLoopQueue, float64(f.Length), name)
			gauge(descLoopQueueHigh, float64(f.HighWater), name)
		}
		gauge(descDiskQueue, float64(q.Disk.Length))
		gauge(descDiskQueueHigh, float64(q.Disk.HighWater))
		gauge(descDiskBatchMax, float64(q.DiskMaxBatch))
		gauge(descTimerQueue, float64(q.Timers.Length))
		gauge(descTimerQueueHigh, float64(q.Timers.HighWater))
	}
	ctx, cancel := context.WithTimeout(context.Background(), min(nc.s.cfg.RequestTimeout, 5*time.Second))
	defer cancel()
	v, err := nc.s.call(ctx, node.Stats{})
	st, ok := v.(node.StatsReply)
	if err != nil || !ok {
		nc.s.log.Warn("http: metrics: node stats unavailable", "err", err)
		ch <- prometheus.MustNewConstMetric(descScrapeFailures, prometheus.GaugeValue, 1)
		return
	}
	ch <- prometheus.MustNewConstMetric(descScrapeFailures, prometheus.GaugeValue, 0)
	counter := func(d *prometheus.Desc, v int64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v))
	}
	gauge(descConnections, float64(st.Connections))
	gauge(descOnline, float64(st.Online))
	counter(descAccepted, st.Accepted)
	counter(descInMsgs, st.InMsgs)
	counter(descOutMsgs, st.OutMsgs)
	counter(descInBytes, st.InBytes)
	counter(descOutBytes, st.OutBytes)
	counter(descStored, st.MessagesStored)
	gauge(descRetryQueue, float64(st.RetryQueue))
	counter(descProposals, st.Proposals)
	counter(descApplied, st.Applied)
	gauge(descSlots, float64(st.Slots))
	gauge(descLeaderSlots, float64(st.LeaderSlots))
	gauge(descCaughtUpSlots, float64(st.CaughtUpSlots))
	counter(descDiskCommits, st.DiskCommits)
	counter(descDiskRetries, st.DiskRetries)
	gauge(descDeferred, float64(st.Deferred))
	gauge(descDeferredHigh, float64(st.DeferredHigh))
	counter(descOverloaded, st.Overloaded)
	collectDisk(ch, st) // metrics_disk.go
	gauge(descHookBacklog, float64(st.WebhookBacklog))
	gauge(descHookOldest, st.WebhookOldestAge.Seconds())
	counter(descHookDelivered, st.WebhookDelivered)
	counter(descHookPosts, st.WebhookPosts)
	counter(descHookFailures, st.WebhookFailures)
	counter(descHookStatusLost, st.WebhookStatusDropped)
	buckets, count := cumulative(st.SendLatency)
	ch <- prometheus.MustNewConstHistogram(descSendLatency, count, st.SendLatencySum, buckets)
}

// cumulative turns the send latency's per-bucket counts (the last one
// +Inf) into Prometheus's cumulative buckets and the total count.
func cumulative(counts [len(node.SendLatencyBuckets) + 1]int64) (map[float64]uint64, uint64) {
	return cumulativeOf(node.SendLatencyBuckets[:], counts[:])
}
