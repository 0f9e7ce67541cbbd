package http

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/jindou-im/jindou/node"
)

// Per-slot figures, labelled slot, from node.ClusterSlots at each scrape:
// every slot's leader as this node believes it, and for the replicas held
// here raft's term and role, the applied and commit indexes, the log held,
// and the replica's own counters (leaderships, proposals, snapshots sent,
// proposal-to-apply latency). 64 slots make a few hundred series; the
// histogram's are the most.
var (
	slotLabel           = []string{"slot"}
	descSlotLeaderID    = slotDesc("slot_leader_id", "The node this node believes leads the slot (0: none known).")
	descSlotLeading     = slotDesc("slot_is_leader", "1 while this node leads the slot.")
	descSlotTerm        = slotDesc("slot_term", "Raft term of this node's replica of the slot.")
	descSlotApplied     = slotDesc("slot_applied_index", "Last raft index applied by this node's replica.")
	descSlotCommit      = slotDesc("slot_commit_index", "Raft commit index this node's replica knows.")
	descSlotLog         = slotDesc("slot_log_entries", "Raft log entries this node's replica holds (0: compacted to a snapshot).")
	descSlotLeaderships = slotDesc("slot_leaderships_total", "Times the slot became led by this node (since its replica was made here).")
	descSlotProposals   = slotDesc("slot_proposals_total", "Proposals this node made to the slot while leading it.")
	descSlotSnapshots   = slotDesc("slot_snapshots_sent_total", "Raft snapshots the slot's leader here sent to followers.")
	descSlotCommitTime  = slotDesc("slot_commit_duration_seconds", "Time from a proposal made here to its apply (committed on a quorum).")
)

func slotDesc(name, help string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(ns, "", name), help, slotLabel, nil)
}

// slotsCollector exports them.
type slotsCollector struct{ s *Server }

func (sc *slotsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descSlotLeaderID, descSlotLeading, descSlotTerm, descSlotApplied, descSlotCommit,
		descSlotLog, descSlotLeaderships, descSlotProposals, descSlotSnapshots, descSlotCommitTime} {
		ch <- d
	}
}

func (sc *slotsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), min(sc.s.cfg.RequestTimeout, 5*time.Second))
	defer cancel()
	v, err := sc.s.call(ctx, node.ClusterSlots{})
	r, ok := v.(node.ClusterSlotsReply)
	if err != nil || !ok {
		return // metrics.go's collector reports a node that does not answer
	}
	for _, si := range r.Slots {
		collectSlot(ch, si)
	}
}

func collectSlot(ch chan<- prometheus.Metric, si node.SlotInfo) {
	slot := strconv.Itoa(si.Slot)
	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, slot)
	}
	counter := func(d *prometheus.Desc, v int64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), slot)
	}
	gauge(descSlotLeaderID, float64(si.Leader))
	if !si.Replica {
		return
	}
	leading := 0.0
	if si.Role == "leader" {
		leading = 1
	}
	gauge(descSlotLeading, leading)
	gauge(descSlotTerm, float64(si.Term))
	gauge(descSlotApplied, float64(si.Applied))
	gauge(descSlotCommit, float64(si.Commit))
	gauge(descSlotLog, float64(si.LogEntries))
	counter(descSlotLeaderships, si.LeaderChanges)
	counter(descSlotProposals, si.Proposals)
	counter(descSlotSnapshots, si.SnapshotsSent)
	ch <- latencyHistogram(descSlotCommitTime, si.CommitLatency, slot)
}
