package http

import (
	"github.com/jindou-im/jindou/node"
	"github.com/prometheus/client_golang/prometheus"
)

// The full-disk figures (node/diskfault.go) in /metrics.
var (
	descDiskFull         = desc("disk_full", "1 while some slot loop refuses writes because the disk is under its reserve.")
	descDiskFullEpisodes = desc("disk_full_episodes_total", "Times a slot loop found the disk full.")
	descDiskFullRefused  = desc("disk_full_refused_total", "Writes refused because the disk was full.")

	diskDescs = []*prometheus.Desc{descDiskFull, descDiskFullEpisodes, descDiskFullRefused}
)

// collectDisk sends the full-disk figures of st.
func collectDisk(ch chan<- prometheus.Metric, st node.StatsReply) {
	full := 0.0
	if st.DiskFull {
		full = 1
	}
	ch <- prometheus.MustNewConstMetric(descDiskFull, prometheus.GaugeValue, full)
	ch <- prometheus.MustNewConstMetric(descDiskFullEpisodes, prometheus.CounterValue, float64(st.DiskFullEpisodes))
	ch <- prometheus.MustNewConstMetric(descDiskFullRefused, prometheus.CounterValue, float64(st.DiskFullRefused))
}

// DurationFigures are a histogram the runtime keeps (QueueStats.DiskCommit):
// Counts per bucket of Bounds (seconds), the last count +Inf, and the sum
// of the durations in seconds.
type DurationFigures struct {
	Bounds     []float64
	Counts     []int64
	SumSeconds float64
}
