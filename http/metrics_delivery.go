package http

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/jindou-im/jindou/node"
)

// Delivery to clients, the webhooks' queue and raft snapshots, from
// node.Stats; the disk writer's group commit times from Config.QueueStats
// (metrics_disk.go's DurationFigures).
var (
	descRecvSent      = desc("recv_sent_total", "RECVs written to clients for the first time (resends are recv_resends_total).")
	descRecvAcks      = desc("recvack_total", "RECVACKs that matched a RECV awaiting one.")
	descRecvAckTime   = desc("recvack_latency_seconds", "Time from a RECV's first write to its RECVACK.")
	descOffline       = desc("offline_recipients_total", "Recipients of stored messages with no connection anywhere (counted in a cluster, or on a node alone while msg.offline or user.onlinestatus is on).")
	descHookInFlight  = desc("webhook_in_flight", "Messages in webhook batches being posted now.")
	descHookRetrying  = desc("webhook_retrying_slots", "Slots whose webhook batch failed and waits for its retry.")
	descSnapsSent     = desc("raft_snapshots_sent_total", "Raft snapshots this node's leaders sent to followers behind the compacted log.")
	descSnapsApplied  = desc("raft_snapshots_applied_total", "Raft snapshots this node's followers caught up from.")
	descSnapChunks    = desc("raft_snapshot_chunks_total", "Chunks the sent snapshots travelled in.")
	descDiskCommitDur = desc("disk_commit_duration_seconds", "Time the disk writer took to run one group commit: the free-space check, its commits and their WAL sync.")
)

// deliveryCollector exports them.
type deliveryCollector struct{ s *Server }

func (dc *deliveryCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRecvSent, descRecvAcks, descRecvAckTime, descOffline, descHookInFlight,
		descHookRetrying, descSnapsSent, descSnapsApplied, descSnapChunks, descDiskCommitDur} {
		ch <- d
	}
}

func (dc *deliveryCollector) Collect(ch chan<- prometheus.Metric) {
	if qs := dc.s.cfg.QueueStats; qs != nil {
		if d := qs().DiskCommit; len(d.Bounds) > 0 {
			buckets, count := cumulativeOf(d.Bounds, d.Counts)
			ch <- prometheus.MustNewConstHistogram(descDiskCommitDur, count, d.SumSeconds, buckets)
		}
	}
	st, ok := dc.s.scrapeStats()
	if !ok {
		return // metrics.go's collector reports the failed scrape
	}
	for _, m := range []struct {
		d *prometheus.Desc
		v int64
	}{{descRecvSent, st.RecvsSent}, {descRecvAcks, st.RecvAcks}, {descOffline, st.OfflineRecipients},
		{descSnapsSent, st.SnapshotsMade}, {descSnapsApplied, st.SnapshotsApplied}, {descSnapChunks, st.SnapshotChunks}} {
		ch <- prometheus.MustNewConstMetric(m.d, prometheus.CounterValue, float64(m.v))
	}
	ch <- prometheus.MustNewConstMetric(descHookInFlight, prometheus.GaugeValue, float64(st.WebhookInFlight))
	ch <- prometheus.MustNewConstMetric(descHookRetrying, prometheus.GaugeValue, float64(st.WebhookRetrying))
	ch <- latencyHistogram(descRecvAckTime, st.RecvAckLatency)
}

// latencyHistogram is a node.Latency as a Prometheus histogram, with the
// labels' values.
func latencyHistogram(d *prometheus.Desc, h node.Latency, labels ...string) prometheus.Metric {
	buckets, count := cumulativeOf(node.LatencyBuckets[:], h.Counts[:])
	return prometheus.MustNewConstHistogram(d, count, h.SumSeconds, buckets, labels...)
}

// cumulativeOf turns per-bucket counts of bounds (one more count than
// bounds: the last is +Inf) into Prometheus's cumulative buckets and the
// total count.
func cumulativeOf(bounds []float64, counts []int64) (map[float64]uint64, uint64) {
	buckets := make(map[float64]uint64, len(bounds))
	var sum uint64
	for i, le := range bounds {
		if i < len(counts) {
			sum += uint64(max(counts[i], 0))
		}
		buckets[le] = sum
	}
	for _, n := range counts[min(len(bounds), len(counts)):] {
		sum += uint64(max(n, 0))
	}
	return buckets, sum
}
