package sim_test

import (
	"math/rand/v2"
	"time"

	"github.com/jindou-im/jindou/chaos"
	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/runtime"
)

// The node's counters, read for the seed's coverage, and the dedupe
// window's probe.

// dedupeWindow draws the node's dedupe window from its own stream: in some
// seeds short enough for the probe to outlive it. Retries of the run's
// sends come within seconds (and a wall clock jump of at most 5s), well
// inside it; in a cluster, a retry may come after a request timeout and
// the proposers' clocks differ by up to twice their jump (2s), so its
// window is longer.
func dedupeWindow(r *rand.Rand, cluster bool) time.Duration {
	if r.IntN(2) == 0 {
		if cluster {
			return time.Duration(16+r.IntN(4)) * time.Second
		}
		return time.Duration(12+r.IntN(4)) * time.Second
	}
	return 0 // the default, a day
}

// startStats reads every up node's counters every 250ms, and samples who
// leads which slot in which term; a crash folds the last reading of the
// incarnation into the base (counters start again at 0).
func (sw *seedWorld) startStats() {
	var next func()
	next = func() {
		if !sw.quiet {
			sw.Sim.After(250*time.Millisecond, "stats", next)
		}
		for _, n := range sw.upNodes() {
			n.Submit(node.Stats{}, func(v any, err error) {
				if err == nil {
					sw.lastStats[n.ID()] = v.(node.StatsReply)
					sw.sampleLeaders(n.ID(), v.(node.StatsReply))
				}
			})
		}
	}
	sw.Sim.After(250*time.Millisecond, "stats", next)
}

// foldStats adds node id's last reading to the base.
func (sw *seedWorld) foldStats(id runtime.NodeID) {
	s, b := sw.lastStats[id], &sw.baseStats
	sw.checkDeliveryFigures(id, s) // nodeseeds_metrics_test.go
	b.Resends += s.Resends
	b.Kicks += s.Kicks
	b.SharedCommits += s.SharedCommits
	b.Duplicates += s.Duplicates
	b.DedupeExpired += s.DedupeExpired
	b.FactsNotices += s.FactsNotices
	b.Compactions += s.Compactions
	b.LeaderChanges += s.LeaderChanges
	b.SnapshotsMade += s.SnapshotsMade
	b.SnapshotChunks += s.SnapshotChunks
	b.Forwarded += s.Forwarded
	b.ReadIndexes += s.ReadIndexes
	b.SendRetries += s.SendRetries
	b.LateDeliveries += s.LateDeliveries
	b.PresenceRefreshes += s.PresenceRefreshes
	b.PresenceRetired += s.PresenceRetired
	b.DeliveriesSkipped += s.DeliveriesSkipped
	b.ConfChanges += s.ConfChanges
	b.Transfers += s.Transfers
	b.SnapshotsAsked += s.SnapshotsAsked
	b.RefusalChecks += s.RefusalChecks
	b.RefusalsRecorded += s.RefusalsRecorded
	b.DiskFullRefused += s.DiskFullRefused
	b.SlowCutsConnCap += s.SlowCutsConnCap
	b.SlowCutsBudget += s.SlowCutsBudget
	delete(sw.lastStats, id)
}

// beforeCrash is the plan's hook: what the crash of node id will lose —
// the requests that went to it are asked again elsewhere, or after its
// restart.
func (sw *seedWorld) beforeCrash(id runtime.NodeID) {
	sw.foldStats(id)
	sw.adminLost(id)
	if sw.probe.busy && sw.probe.on == id {
		sw.probe.busy = false // asked again
	}
	sw.apiLost(id)
	if sw.cluster() {
		sw.Sim.After(retryDelay, "retry-lost", sw.retryLost)
	}
}

// afterRestart is the plan's hook: reads right after the restart, and
// what the crash left unanswered asked again.
func (sw *seedWorld) afterRestart(id runtime.NodeID) {
	sw.readAfterRestart(id)
	for _, u := range sw.users[:min(3, len(sw.users))] {
		sw.readConversations(u.uid)
	}
	sw.retryLost()
}

// retryLost asks again what a crash lost.
func (sw *seedWorld) retryLost() {
	sw.adminNext()
	sw.apiRetry()
	sw.probeRetry()
}

// nodeCoverage adds the nodes' counters to the seed's coverage (at the
// end, every node up).
func (sw *seedWorld) nodeCoverage() {
	for _, n := range sw.nodes {
		if v, err := n.Call(node.Stats{}); err == nil {
			sw.lastStats[n.ID()] = v.(node.StatsReply)
			sw.sampleLeaders(n.ID(), v.(node.StatsReply))
		}
		sw.foldStats(n.ID())
	}
	b, c := sw.baseStats, sw.res.coverage
	c.Add(chaos.Resends, b.Resends)
	c.Add(chaos.Kicks, b.Kicks)
	c.Add(chaos.SharedCommits, b.SharedCommits)
	c.Add(chaos.DedupeHits, b.Duplicates)
	c.Add(chaos.DedupeExpiry, b.DedupeExpired)
	c.Add(chaos.FactsNotices, b.FactsNotices)
	c.Add(chaos.Compactions, b.Compactions)
	c.Add(chaos.Snapshots, b.SnapshotsMade)
	c.Add(chaos.SnapshotChunks, b.SnapshotChunks)
	c.Add(chaos.Forwards, b.Forwarded)
	c.Add(chaos.ReadIndexes, b.ReadIndexes)
	c.Add(chaos.SendRetries, b.SendRetries)
	c.Add(chaos.LateDeliveries, b.LateDeliveries)
	c.Add(chaos.PresenceRefreshes, b.PresenceRefreshes)
	c.Add(chaos.PresenceRetired, b.PresenceRetired)
	c.Add(chaos.DeliveriesSkipped, b.DeliveriesSkipped)
	c.Add(chaos.ConfChanges, b.ConfChanges)
	c.Add(chaos.HandOffs, b.Transfers)
	c.Add(chaos.SnapshotsAsked, b.SnapshotsAsked)
	c.Add(chaos.RefusalChecks, b.RefusalChecks)
	c.Add(chaos.RecordedRefusals, b.RefusalsRecorded)
	c.Add(chaos.DiskFullRefusals, b.DiskFullRefused)
	c.Add(chaos.SlowReaderCuts, b.SlowCutsConnCap+b.SlowCutsBudget)
	st := sw.Sim.Stats()
	c.Add(chaos.OutputCuts, st.OutputCutsConn+st.OutputCutsTotal)
}

// probe checks the dedupe window from the outside: a repeat of a stored
// client_msg_no within the window answers the original seq; one after it
// (when the window is short) is stored anew. Its channel is not one of
// the run's checked channels: a message stored twice there is expected.
type probe struct {
	ch     node.ChannelKey
	window time.Duration
	// stage: 0 first send, 1 repeat within the window, 2 repeat after it,
	// 3 done.
	stage int
	seq   uint64
	busy  bool
	on    runtime.NodeID // the node of the send in flight
	at    time.Duration  // when the first send was answered
}

const probeUID = "probe"

func (sw *seedWorld) startProbe(window time.Duration) {
	p := &sw.probe
	p.ch, p.window = node.ChannelKey{Type: proto.ChannelGroup, ID: "dedupe-probe"}, window
	if _, err := sw.setupCall(node.ChannelUpsert{Channel: p.ch, Subscribers: []string{probeUID}}); err != nil {
		sw.fail("creating %s: %v", p.ch, err)
	}
	sw.Sim.After(300*time.Millisecond, "probe", sw.probeRetry)
}

// probeDue is when the probe's repeat after the window is due (0: none):
// past the window by more than the nodes' clocks may differ.
func (sw *seedWorld) probeDue() time.Duration {
	if p := &sw.probe; p.window > 0 && p.stage < 3 {
		margin := 6 * time.Second
		if sw.cluster() {
			margin = 8 * time.Second // the nodes' clocks differ by up to 4s
		}
		return p.at + p.window + margin
	}
	return 0
}

// probeDone: nothing of the probe is left to do.
func (sw *seedWorld) probeDone() bool { return sw.probe.stage == 3 }

func (sw *seedWorld) probeRetry() {
	p := &sw.probe
	n := sw.api()
	if p.busy || p.stage == 3 || n == nil {
		return
	}
	if due := sw.probeDue(); p.stage == 2 && sw.Now() < due {
		sw.Sim.At(due, "probe", sw.probeRetry)
		return
	}
	p.on = n.ID()
	p.busy = n.Submit(node.SendMessage{FromUID: probeUID, Channel: p.ch, ClientMsgNo: "probe-1", Payload: []byte("probe")}, func(v any, err error) {
		p.busy = false
		if transient(err) {
			sw.Sim.After(retryDelay, "probe", sw.probeRetry)
			return
		}
		if err != nil {
			sw.fail("dedupe probe, stage %d: %v", p.stage, err)
			p.stage = 3
			return
		}
		seq := v.(node.SendReply).MessageSeq
		switch p.stage {
		case 0:
			p.seq, p.at = seq, sw.Now()
		case 1:
			if seq != p.seq {
				sw.fail("dedupe probe: a repeat within the window stored anew at seq %d (first at %d)", seq, p.seq)
			}
		case 2:
			if seq == p.seq {
				sw.fail("dedupe probe: a repeat %v after the first (window %v) answered the original seq %d", sw.Now()-p.at, p.window, seq)
			}
		}
		p.stage++
		if p.stage == 2 && p.window == 0 {
			p.stage = 3
		}
		sw.probeRetry()
	})
}
