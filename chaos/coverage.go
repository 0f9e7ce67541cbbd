package chaos

import (
	"fmt"
	"strings"
)

// Feature names something a run's workload or the node did that a seed
// set must exercise, as a fault class must fire: a set of seeds in which
// it never happened proves nothing about it.
type Feature string

// The workload features the node seeds count.
const (
	Resends           Feature = "resends"          // RECVs written again (DUP) for want of a RECVACK
	Kicks             Feature = "kicks"            // connections disconnected by the node
	ListChanges       Feature = "list_changes"     // subscribers, black/whitelists, system uids changed in traffic
	InfoChanges       Feature = "info_changes"     // channels banned, send-banned, disbanded, deleted
	TokenChanges      Feature = "token_changes"    // tokens replaced, devices quit
	Refusals          Feature = "refusals"         // sends refused for a permission
	CutPages          Feature = "cut_pages"        // history reads cut by their limit (more=1)
	ConvReads         Feature = "conv_reads"       // conversation list reads
	Compactions       Feature = "compactions"      // raft log compactions
	DedupeHits        Feature = "dedupe_hits"      // repeats answered from the dedupe window
	DedupeExpiry      Feature = "dedupe_expired"   // repeats stored anew after the window
	SharedCommits     Feature = "shared_commits"   // group commits holding several slots' entries
	APISends          Feature = "api_sends"        // sends over the HTTP API, without client_msg_no
	ManualAcks        Feature = "late_acks"        // RECVACKs sent late by slow readers
	MultiDevice       Feature = "multi_device"     // users online on several devices at once
	JSONRPCRecvs      Feature = "jsonrpc_recvs"    // messages delivered to JSON-RPC clients
	OtherChannelTypes Feature = "other_types"      // messages delivered in community and community topic channels
	Snapshots         Feature = "snapshots"        // raft snapshots sent to followers behind a compacted log
	Forwards          Feature = "forwards"         // requests passed on to another node's slot loop
	ReadIndexes       Feature = "read_indexes"     // ReadIndex rounds of reads of replicated slots
	SendRetries       Feature = "send_retries"     // SENDs a gateway repeated after a lost forward
	LateDeliveries    Feature = "late_deliveries"  // deliveries held back from a connection that had a later seq
	SlowReaderCuts    Feature = "slow_reader_cuts" // readers cut by the resend budget (their own cap or the node's)
	OutputCuts        Feature = "output_cuts"      // readers that stopped reading cut by the runtime's output budget
	GracefulStops     Feature = "graceful_stops"   // nodes stopped gracefully (SENDs drained) and started again
	DrainRefusals     Feature = "drain_refusals"   // SENDs refused because their node was stopping
	SnapshotChunks    Feature = "snapshot_chunks"  // chunks snapshots were sent in
	PresenceRefreshes Feature = "presence_refreshes"
	PresenceRetired   Feature = "presence_retired"
	DeliveriesSkipped Feature = "deliveries_skipped"
	SyncOnceAcks      Feature = "sync_once_acks" // /message/syncack acknowledging a pull of the sync_once queue
	StreamEvents      Feature = "stream_events"  // message events read back by /message/eventsync
	TmpChannelSends   Feature = "tmp_sends"      // sync_once messages stored in a temporary channel
	DiskFullRefusals  Feature = "disk_full_refusals"
	ConfChanges       Feature = "conf_changes" // raft configuration changes moving replicas after joins and removals
	HandOffs          Feature = "hand_offs"    // leaderships handed off before a replica left its group
	// SnapshotsAsked: entries from index 1 an empty replica refused, asking
	// for a snapshot. Counted, not required: a handful in 200 seeds, none
	// in many sets of 50.
	SnapshotsAsked   Feature = "snapshots_asked"
	RefusalChecks    Feature = "refusal_checks"    // refusals confirmed with the slot's leader before they were answered
	RecordedRefusals Feature = "recorded_refusals" // refusals of repeated SENDs decided in the log
	FactsNotices     Feature = "facts_notices"     // notices of changed person facts (or of a slot caught up) between slot loops
	SubscriberPages  Feature = "subscriber_pages"  // subscriber lists read whole in several pages
	// The webhooks (in the seeds that have a receiver).
	WebhookRetries Feature = "webhook_retries" // POSTs the receiver failed, retried
	WebhookDups    Feature = "webhook_dups"    // messages the receiver got more than once (at least once)
	WebhookOffline Feature = "webhook_offline" // msg.offline notices received
	WebhookStatus  Feature = "webhook_status"  // user.onlinestatus lines received
)

// NodeSeedFeatures are the features a set of node seeds must exercise.
var NodeSeedFeatures = []Feature{
	Resends, Kicks, ListChanges, InfoChanges, TokenChanges, Refusals, CutPages, ConvReads,
	Compactions, DedupeHits, DedupeExpiry, SharedCommits, APISends, ManualAcks, MultiDevice,
	WebhookRetries, WebhookDups, WebhookOffline, WebhookStatus,
	JSONRPCRecvs, OtherChannelTypes, SyncOnceAcks, StreamEvents, TmpChannelSends, DiskFullRefusals, SlowReaderCuts, GracefulStops, DrainRefusals,
	OutputCuts, FactsNotices, SubscriberPages,
}

// ClusterSeedFeatures are the features a set of node seeds with clusters
// must exercise besides.
var ClusterSeedFeatures = []Feature{Snapshots, SnapshotChunks, Forwards, ReadIndexes, SendRetries, LateDeliveries,
	PresenceRefreshes, PresenceRetired, DeliveriesSkipped, ConfChanges, HandOffs, RefusalChecks, RecordedRefusals}

// Coverage counts features, for one run or summed over runs.
type Coverage map[Feature]int64

// Add adds n occurrences of f.
func (c Coverage) Add(f Feature, n int64) { c[f] += n }

// Line prints the counts of want in want's order: "resends=3 kicks=0 ...".
func (c Coverage) Line(want []Feature) string {
	parts := make([]string, len(want))
	for i, f := range want {
		parts[i] = fmt.Sprintf("%s=%d", f, c[f])
	}
	return strings.Join(parts, " ")
}

// Covered adds a run's coverage to the counter.
func (c *Counter) Covered(run Coverage) {
	for f, n := range run {
		c.features[f] += n
	}
}

// Feature is how many times f happened.
func (c *Counter) Feature(f Feature) int64 { return c.features[f] }

// MissingFeatures lists the features among want that never happened,
// sorted.
func (c *Counter) MissingFeatures(want []Feature) []Feature {
	return never(want, func(f Feature) bool { return c.features[f] == 0 })
}
