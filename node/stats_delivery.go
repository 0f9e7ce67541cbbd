package node

import "time"

// The delivery and per-slot figures of Stats and ClusterSlots: RECVs
// written and acknowledged (with the RECV-to-RECVACK latency), recipients
// that had no connection when their message was stored, and each slot's
// leaderships, proposals, snapshots sent and proposal-to-apply latency.
// Every duration is the runtime clock's (virtual in the simulator).

// LatencyBuckets are the upper bounds, in seconds, of the core's latency
// histograms other than the send latency's (SendLatencyBuckets): the
// RECV-to-RECVACK latency and a slot's proposal-to-apply latency. A RECV
// may wait for its RECVACK over several resend intervals, so they reach
// further than the send latency's.
var LatencyBuckets = [...]float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// Latency is a histogram of durations: Counts per bucket of
// LatencyBuckets (the last one +Inf) and their sum in seconds. It is an
// array, so that a copy of it shares nothing with the loop that counts.
type Latency struct {
	Counts     [len(LatencyBuckets) + 1]int64
	SumSeconds float64
}

func (h *Latency) observe(d time.Duration) {
	sec := d.Seconds()
	i := 0
	for i < len(LatencyBuckets) && sec > LatencyBuckets[i] {
		i++
	}
	h.Counts[i]++
	h.SumSeconds += sec
}

func (h *Latency) add(o Latency) {
	for i, n := range o.Counts {
		h.Counts[i] += n
	}
	h.SumSeconds += o.SumSeconds
}

// Count is the number of durations observed.
func (h Latency) Count() int64 {
	var n int64
	for _, c := range h.Counts {
		n += c
	}
	return n
}

// deliveryStats are a gateway loop's delivery counters: RecvsSent RECVs
// written for the first time (resends are gatewayStats.Resends), RecvAcks
// RECVACKs that matched a RECV awaiting one, and RecvAckLatency from a
// RECV's first write to its RECVACK.
type deliveryStats struct {
	RecvsSent, RecvAcks int64
	RecvAckLatency      Latency
}

// acked takes c's RECVACK of the pending RECV mid.
func (g *gateway) acked(c *client, mid int64) {
	if pr, ok := c.pending[mid]; ok {
		g.stats.RecvAcks++
		g.stats.RecvAckLatency.observe(g.now() - pr.firstAt)
	}
	g.untrack(c, mid)
}

// countOffline counts the recipients of a message just stored that have
// no ready connection anywhere, as far as this loop knows: in a cluster
// its presence table (unless full), on a node alone the view of who is
// online its gateways tell every slot loop of (webhook_presence.go).
func (sl *slotLoop) countOffline(recipients []string) {
	switch {
	case sl.n.clustered() && !sl.presence.full():
		for _, uid := range recipients {
			if len(sl.presence.users[uid]) == 0 {
				sl.stats.OfflineRecipients++
			}
		}
	case !sl.n.clustered():
		for _, uid := range recipients {
			if p := sl.hooks.presence.users[uid]; p == nil || p.total == 0 {
				sl.stats.OfflineRecipients++
			}
		}
	}
}

// slotCounters are one slot's figures on this node, kept with its replica
// (they start again when a replica is made here anew): the times it became
// led here, the proposals its leader made here, the snapshots it sent to
// followers, and the latency from a proposal made here to its apply.
type slotCounters struct {
	LeaderChanges, Proposals, SnapshotsSent int64
	CommitLatency                           Latency
}

// proposalApplied observes the latency of s's proposal p, applied now.
func (sl *slotLoop) proposalApplied(s *slot, p pendingProposal) {
	s.counters.CommitLatency.observe(sl.n.env.Clock().Now() - p.at)
}
