package http

import (
	"github.com/prometheus/client_golang/prometheus"
)

// The node's counters that metrics.go's collector leaves out: delivery
// (resends, kicks), dedupe and the disk's group commits. Read with their
// own node.Stats at each scrape.
var (
	descResends       = desc("recv_resends_total", "RECVs written again (DUP) because no RECVACK came within resend_interval.")
	descKicks         = desc("kicks_total", "Connections disconnected by a newer login, a token change or a device quit.")
	descDuplicates    = desc("send_duplicates_total", "SENDs answered from the dedupe window instead of stored again.")
	descDedupeExpired = desc("send_dedupe_expired_total", "Repeated SENDs stored anew because the dedupe window had passed.")
	descCompactions   = desc("raft_compactions_total", "Raft log compactions.")
	descGroupSlots    = desc("disk_group_commit_slots_total", "Slots committed, summed over group commits (divide by disk_commits_total for slots per commit).")
	descSharedCommits = desc("disk_shared_commits_total", "Group commits that held more than one slot.")
)

// moreCollector exports them.
type moreCollector struct{ s *Server }

func (mc *moreCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descResends, descKicks, descDuplicates, descDedupeExpired, descCompactions,
		descGroupSlots, descSharedCommits} {
		ch <- d
	}
}

func (mc *moreCollector) Collect(ch chan<- prometheus.Metric) {
	st, ok := mc.s.scrapeStats()
	if !ok {
		return // metrics.go's collector reports the failed scrape
	}
	for _, m := range []struct {
		d *prometheus.Desc
		v int64
	}{{descResends, st.Resends}, {descKicks, st.Kicks}, {descDuplicates, st.Duplicates}, {descDedupeExpired, st.DedupeExpired},
		{descCompactions, st.Compactions}, {descGroupSlots, st.GroupCommitSlots}, {descSharedCommits, st.SharedCommits}} {
		ch <- prometheus.MustNewConstMetric(m.d, prometheus.CounterValue, float64(m.v))
	}
}
