package node

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// Stats reads the node's counters (for /varz and /metrics). Reply:
// StatsReply.
type Stats struct{}

// StatsReply sums every loop's counters.
type StatsReply struct {
	Connections int   // open client connections
	Online      int   // of which past CONNACK
	Accepted    int64 // connections accepted since start
	InMsgs      int64 // frames from clients
	OutMsgs     int64 // frames to clients
	InBytes     int64
	OutBytes    int64
	RetryQueue  int // RECVs awaiting RECVACK
	// ResendBytes are the bytes of those RECVs (bounded by
	// Config.ResendBudgetBytes); SlowCutsConnCap and SlowCutsBudget the
	// slow readers cut past their own cap and as the slowest when the
	// budget was spent; DrainRefused SENDs refused during a graceful stop.
	ResendBytes                     int
	SlowCutsConnCap, SlowCutsBudget int64
	DrainRefused                    int64
	SendLatency                     [len(SendLatencyBuckets) + 1]int64
	SendLatencySum                  float64
	Proposals                       int64
	Applied                         int64
	MessagesStored                  int64
	DiskCommits                     int64
	DiskRetries                     int64
	Compactions                     int64 // raft log compactions
	// Resends are RECVs written again with DUP; Kicks connections
	// disconnected by a newer login, a token change or a device quit.
	Resends, Kicks int64
	// SendRetries are SENDs a gateway sent again after forwardRetry
	// without an answer; LateDeliveries deliveries not pushed because the
	// connection had that channel's seq or a later one (a cluster's lost
	// requests, and its duplicated or reordered deliveries).
	SendRetries, LateDeliveries int64
	// RefusalsRecorded are refusals of repeated SENDs decided in the log
	// (state/refuse.go); UnrecordedIgnored answers to a repeated SEND that
	// were not final (neither a success nor decided in the log).
	RefusalsRecorded, UnrecordedIgnored int64
	// GroupCommitSlots/DiskCommits is the slots per group commit;
	// SharedCommits the commits that held more than one slot.
	GroupCommitSlots, SharedCommits int64
	// Duplicates are sends answered from the dedupe window; DedupeExpired
	// repeats stored anew once the window had passed.
	Duplicates, DedupeExpired int64
	// FactsNotices counts the notices slot loops got from the loop owning
	// person facts that they changed, or that a slot caught up
	// (facts_cache.go).
	FactsNotices int64
	// Deferred are the requests waiting now for slots to catch up;
	// DeferredHigh the most that ever waited in one slot loop (bounded by
	// Config.DeferredLimit); Overloaded those refused past it.
	Deferred     int
	DeferredHigh int64
	Overloaded   int64
	// Forwarded are requests passed on to another node's slot loop;
	// ReadIndexes the ReadIndex rounds of reads of replicated slots;
	// PeerDropped messages from other nodes dropped as malformed or
	// misaddressed.
	Forwarded, ReadIndexes, PeerDropped int64
	// SnapshotsMade and SnapshotsApplied count raft snapshots sent to
	// followers behind the compacted log, and caught up from.
	SnapshotsMade, SnapshotsApplied int64
	// Cluster presence (presence.go), summed over the slot loops, each of
	// which keeps its own table: PresenceUpdates updates applied,
	// PresenceRefreshes whole presences of a gateway taken in after a
	// missed update or a restart, PresenceRetired gateways of a node's
	// older incarnation dropped, PresenceExpired gateways not heard from
	// dropped, PresenceDropped presence messages ignored; PresenceUsers
	// the most uids one loop's table holds.
	PresenceUpdates, PresenceRefreshes, PresenceRetired, PresenceExpired, PresenceDropped int64
	PresenceUsers                                                                         int
	// DeliveriesSent are deliveries sent to another node holding
	// recipients of a message; DeliveriesSkipped members not sent a
	// message because they hold none of its recipients.
	DeliveriesSent, DeliveriesSkipped int64
	// ConfChanges are raft configuration changes this node's leaders
	// proposed to move replicas; Transfers leaderships handed off before
	// leaving a group; ReplicasAdded and ReplicasDropped replicas created
	// here for the cluster table and dropped once removed.
	ConfChanges, Transfers, ReplicasAdded, ReplicasDropped int64
	// SnapshotsAsked are entries from index 1 an empty replica refused,
	// asking for a snapshot instead; RefusalChecks the reads that
	// confirmed a refusal with the slot's leader (refusal.go).
	SnapshotsAsked, RefusalChecks int64
	// SnapshotChunks are the chunks snapshots were sent in (one that fits
	// in Config.SnapshotChunkBytes goes whole); SnapshotsGathered the
	// snapshots received whole from chunks.
	SnapshotChunks, SnapshotsGathered int64
	// ControllerLeader: this node leads the controller group.
	ControllerLeader bool
	// Unroutable are messages dropped because they named a node this
	// node's cluster table does not know (yet, or any more).
	Unroutable int64
	// StaleAnswers are answers dropped because they were to an earlier
	// incarnation of this node (a request passed back to it by a peer).
	StaleAnswers int64
	Slots        int   // data slots replicated here (the controller aside)
	LeaderSlots  int   // of them, those this node leads
	LedSlots     []int // every group led here, in order (the controller's is ControllerGroup)
	// LedTerms are the terms in which this node leads LedSlots (parallel
	// to it); LeaderChanges counts the times a slot became led here.
	LedTerms      []uint64
	LeaderChanges int64
	// LeaderlessSlots are replicated slots whose leader is unknown here
	// (an election, or no quorum); SystemUnknown: some slot loop has not
	// yet learnt the system uids from slot 0's leader.
	LeaderlessSlots int
	// UnknownLeaders are slots not replicated here whose leader no member
	// has announced to this node yet.
	UnknownLeaders int
	SystemUnknown  bool
	CaughtUpSlots  int // slots ready to serve
	// DiskFull: some slot loop refuses writes for a full disk now;
	// DiskFullEpisodes counts the times a loop found it full,
	// DiskFullRefused the writes refused so (node/diskfault.go).
	DiskFull                          bool
	DiskFullEpisodes, DiskFullRefused int64
	// StartedAt is when this incarnation of the node started (wall clock).
	StartedAt time.Time
	// The webhooks: WebhookBacklog stored messages not yet acknowledged
	// by the receiver, the oldest of them WebhookOldestAge old (0: none);
	// WebhookDelivered messages acknowledged, WebhookPosts POSTs made
	// (retries included) and WebhookFailures failed;
	// WebhookStatusPending user.onlinestatus lines waiting,
	// WebhookStatusSent acknowledged and WebhookStatusDropped dropped past
	// the bound; WebhookMissing outbox entries without their message.
	WebhookBacklog                                          int
	WebhookOldestAge                                        time.Duration
	WebhookDelivered, WebhookPosts, WebhookFailures         int64
	WebhookStatusPending                                    int
	WebhookStatusSent, WebhookStatusDropped, WebhookMissing int64
	webhookOldestAtMs                                       int64
	// WebhookInFlight are messages in batches being posted now;
	// WebhookRetrying slots whose batch failed and waits to be posted
	// again.
	WebhookInFlight, WebhookRetrying int

	// Delivery (stats_delivery.go): RecvsSent RECVs written for the first
	// time, RecvAcks RECVACKs matched, RecvAckLatency from a RECV's first
	// write to its RECVACK; OfflineRecipients recipients of stored
	// messages with no connection anywhere, as the slot loops know
	// (counted in a cluster, or while the webhooks track who is online).
	RecvsSent, RecvAcks int64
	RecvAckLatency      Latency
	OfflineRecipients   int64
}

func (Stats) run(a *apiLoop, done func(any, error)) error {
	out := StatsReply{StartedAt: a.n.startedAt, Unroutable: a.n.unroutable.Load(), StaleAnswers: a.n.staleAnswers.Load()}
	a.gatherGateways(queryGatewayStats{}, func(parts []readResult, err error) {
		if err != nil {
			done(nil, err)
			return
		}
		for _, p := range parts {
			out.addGateway(p.(gatewayLoopStats))
		}
		a.slotStats(&out, done)
	})
	return nil
}

// slotStats adds the slot loops' counters. It does not wait for slots to
// catch up: stats must answer while a node recovers.
func (a *apiLoop) slotStats(out *StatsReply, done func(any, error)) {
	a.gatherSlotLoops(querySlotStats{}, true, func(parts []readResult, err error) {
		if err != nil {
			done(nil, err)
			return
		}
		for _, p := range parts {
			out.addSlotLoop(p.(slotLoopStats))
		}
		if out.webhookOldestAtMs > 0 {
			out.WebhookOldestAge = max(0, time.Duration(a.n.env.Clock().Wall().UnixMilli()-out.webhookOldestAtMs)*time.Millisecond)
		}
		done(*out, nil)
	})
}

// gatewayLoopStats are one gateway loop's figures.
type gatewayLoopStats struct {
	gatewayStats
	connections, online, retryQueue, resendBytes int
}

func (g *gateway) loopStats() gatewayLoopStats {
	r := gatewayLoopStats{gatewayStats: g.stats, connections: len(g.clients), resendBytes: g.pendingBytes}
	for _, c := range g.clients {
		r.retryQueue += len(c.pending)
		if c.state == stateReady {
			r.online++
		}
	}
	return r
}

func (out *StatsReply) addGateway(p gatewayLoopStats) {
	out.Connections += p.connections
	out.Online += p.online
	out.Accepted += p.Accepted
	out.InMsgs += p.InMsgs
	out.OutMsgs += p.OutMsgs
	out.InBytes += p.InBytes
	out.OutBytes += p.OutBytes
	out.RetryQueue += p.retryQueue
	out.ResendBytes += p.resendBytes
	out.SlowCutsConnCap += p.SlowCutsConnCap
	out.SlowCutsBudget += p.SlowCutsBudget
	out.DrainRefused += p.DrainRefused
	out.Resends += p.Resends
	out.Kicks += p.Kicks
	out.SendRetries += p.SendRetries
	out.UnrecordedIgnored += p.UnrecordedIgnored
	out.LateDeliveries += p.LateDeliveries
	out.PeerDropped += p.PeerDropped
	out.SendLatencySum += p.SendLatencySum
	out.RecvsSent += p.RecvsSent
	out.RecvAcks += p.RecvAcks
	out.RecvAckLatency.add(p.RecvAckLatency)
	for i, n := range p.SendLatency {
		out.SendLatency[i] += n
	}
}

// slotLoopStats are one slot loop's figures.
type slotLoopStats struct {
	slotStats
	slots, leaders, ready, deferred int
	led                             []int
	terms                           []uint64
	// leaderless: replicated slots with no leader known to raft here;
	// systemUnknown: the loop has not yet learnt the system uids.
	leaderless int
	// unknownLeaders: data slots of this loop not replicated here whose
	// leader no member has announced to it yet (route.go's hints).
	unknownLeaders int
	systemUnknown  bool
	ctrlLeader     bool
	diskFull       bool
	hooks          hookLoopStats
	presence       presenceStats
	presenceUsers  int
}

func (sl *slotLoop) loopStats() slotLoopStats {
	ls := slotLoopStats{slotStats: sl.stats, slots: len(sl.slotIDs), deferred: len(sl.deferred), systemUnknown: !sl.systemReady, hooks: sl.hooks.loopStats(),
		presence: sl.presence.stats, presenceUsers: len(sl.presence.users), diskFull: sl.disk.full}
	for _, id := range sl.slotIDs {
		ctrl := id == ctrlGroup
		if ctrl {
			ls.slots--
		}
		if sl.isLeader(sl.slots[id]) {
			if ctrl {
				ls.ctrlLeader = true
			} else {
				ls.leaders++
			}
			ls.led = append(ls.led, id)
			ls.terms = append(ls.terms, sl.slots[id].rn.BasicStatus().HardState.GetTerm())
		}
		if sl.slots[id].lead == 0 {
			ls.leaderless++
		}
		if sl.slots[id].caughtUp && !ctrl {
			ls.ready++
		}
	}
	ls.unknownLeaders = sl.unknownLeaders()
	return ls
}

// unknownLeaders counts the data slots of this loop that are not
// replicated here and whose leader no member has announced yet: a request
// for one goes to a replica, not to its leader. A node alone holds every
// slot.
func (sl *slotLoop) unknownLeaders() int {
	if !sl.n.clustered() {
		return 0
	}
	n := 0
	for id := sl.index; id < sl.n.cfg.Slots; id += sl.n.cfg.SlotLoops {
		if s := sl.slots[id]; s != nil && !s.empty() {
			continue
		}
		if _, ok := sl.hints[id]; !ok {
			n++
		}
	}
	return n
}

func (out *StatsReply) addSlotLoop(p slotLoopStats) {
	out.Proposals += p.Proposals
	out.Applied += p.Applied
	out.MessagesStored += p.MessagesStored
	out.DiskCommits += p.DiskCommits
	out.DiskRetries += p.DiskRetries
	out.Compactions += p.Compactions
	out.GroupCommitSlots += p.GroupCommitSlots
	out.SharedCommits += p.SharedCommits
	out.Duplicates += p.Duplicates
	out.DedupeExpired += p.DedupeExpired
	out.FactsNotices += p.FactsNotices
	out.Slots += p.slots
	out.LeaderSlots += p.leaders
	out.LeaderlessSlots += p.leaderless
	out.UnknownLeaders += p.unknownLeaders
	out.SystemUnknown = out.SystemUnknown || p.systemUnknown
	out.addLed(p.led, p.terms)
	out.LeaderChanges += p.LeaderChanges
	out.CaughtUpSlots += p.ready
	out.Deferred += p.deferred
	out.DeferredHigh = max(out.DeferredHigh, p.DeferredHigh)
	out.Overloaded += p.Overloaded
	out.Forwarded += p.Forwarded
	out.ReadIndexes += p.ReadIndexes
	out.SnapshotsMade += p.SnapshotsMade
	out.SnapshotsApplied += p.SnapshotsApplied
	out.ConfChanges += p.ConfChanges
	out.Transfers += p.Transfers
	out.ReplicasAdded += p.ReplicasAdded
	out.ReplicasDropped += p.ReplicasDropped
	out.SnapshotsAsked += p.SnapshotsAsked
	out.RefusalChecks += p.RefusalChecks
	out.RefusalsRecorded += p.RefusalsRecorded
	out.SnapshotChunks += p.SnapshotChunks
	out.SnapshotsGathered += p.SnapshotsGathered
	out.ControllerLeader = out.ControllerLeader || p.ctrlLeader
	out.PeerDropped += p.PeerDropped
	out.DiskFull = out.DiskFull || p.diskFull
	out.DiskFullEpisodes += p.DiskFullEpisodes
	out.DiskFullRefused += p.DiskFullRefused
	out.OfflineRecipients += p.OfflineRecipients
	out.addHooks(p.hooks)
	out.addPresence(p)
}

func (out *StatsReply) addPresence(p slotLoopStats) {
	out.PresenceUpdates += p.presence.Updates
	out.PresenceRefreshes += p.presence.Refreshes
	out.PresenceRetired += p.presence.Retired
	out.PresenceExpired += p.presence.Expired
	out.PresenceDropped += p.presence.Dropped + p.presence.Overflow
	out.PresenceUsers = max(out.PresenceUsers, p.presenceUsers)
	out.DeliveriesSent += p.presence.Sent
	out.DeliveriesSkipped += p.presence.Skipped
}

func (out *StatsReply) addHooks(h hookLoopStats) {
	out.WebhookBacklog += h.backlog
	out.WebhookDelivered += h.Delivered
	out.WebhookPosts += h.Posts
	out.WebhookFailures += h.Failures
	out.WebhookMissing += h.Missing
	out.WebhookStatusPending += h.statusPending
	out.WebhookStatusSent += h.StatusSent
	out.WebhookStatusDropped += h.StatusDropped
	out.WebhookInFlight += h.inFlight
	out.WebhookRetrying += h.retrying
	if h.oldestAtMs > 0 && (out.webhookOldestAtMs == 0 || h.oldestAtMs < out.webhookOldestAtMs) {
		out.webhookOldestAtMs = h.oldestAtMs
	}
}

// addLed adds led slots and their terms, keeping both in slot order.
func (out *StatsReply) addLed(slots []int, terms []uint64) {
	type ledSlot struct {
		slot int
		term uint64
	}
	all := make([]ledSlot, 0, len(out.LedSlots)+len(slots))
	for i, s := range out.LedSlots {
		all = append(all, ledSlot{s, out.LedTerms[i]})
	}
	for i, s := range slots {
		all = append(all, ledSlot{s, terms[i]})
	}
	slices.SortFunc(all, func(x, y ledSlot) int { return cmp.Compare(x.slot, y.slot) })
	out.LedSlots, out.LedTerms = out.LedSlots[:0], out.LedTerms[:0]
	for _, l := range all {
		out.LedSlots = append(out.LedSlots, l.slot)
		out.LedTerms = append(out.LedTerms, l.term)
	}
}

// query answers a gatewayRead.
func (g *gateway) query(q gatewayQuery) readResult {
	switch q := q.(type) {
	case queryOnline:
		var out onlineResult
		for _, uid := range q.UIDs {
			for _, c := range g.online[uid] {
				out = append(out, OnlineConn{UID: uid, DeviceFlag: uint8(c.flag), Online: 1})
			}
		}
		return out
	case queryConnz:
		return g.connz(q.UID)
	case queryGatewayStats:
		return g.loopStats()
	}
	panic(fmt.Sprintf("node: gateway query %T", q))
}

// ConnInfo describes one client connection (for /connz).
type ConnInfo struct {
	ID           uint64 `json:"id"`
	UID          string `json:"uid"`
	Addr         string `json:"addr"`
	DeviceFlag   uint8  `json:"device_flag"`
	DeviceID     string `json:"device_id"`
	Version      uint8  `json:"version"`
	Uptime       time.Duration
	Idle         time.Duration
	InMsgs       int64 `json:"in_msgs"`
	OutMsgs      int64 `json:"out_msgs"`
	InBytes      int64 `json:"in_bytes"`
	OutBytes     int64 `json:"out_bytes"`
	PendingRecvs int   `json:"pending_recvs"`
	Listener     string
}

// Connz lists client connections, optionally of one uid, by id, one page
// at a time (GET /connz). Reply: ConnzReply.
type Connz struct {
	UID           string
	Offset, Limit int
}

// ConnzReply is a page of connections and the total.
type ConnzReply struct {
	Connections []ConnInfo
	Total       int
}

func (r Connz) run(a *apiLoop, done func(any, error)) error {
	if r.Offset < 0 || r.Limit < 0 {
		return &BadRequest{Field: "offset", Msg: "offset and limit must not be negative"}
	}
	a.gatherGateways(queryConnz{UID: r.UID}, func(parts []readResult, err error) {
		if err != nil {
			done(nil, err)
			return
		}
		var all []ConnInfo
		for _, p := range parts {
			all = append(all, p.(connzResult)...)
		}
		slices.SortFunc(all, func(x, y ConnInfo) int { return cmp.Compare(x.ID, y.ID) })
		limit := r.Limit
		if limit == 0 {
			limit = defaultConnzLimit
		}
		lo := min(r.Offset, len(all))
		hi := min(lo+limit, len(all))
		done(ConnzReply{Connections: slices.Clone(all[lo:hi]), Total: len(all)}, nil)
	})
	return nil
}

// connz lists the loop's connections (of uid, if set) in id order.
func (g *gateway) connz(uid string) connzResult {
	now := g.now()
	var out connzResult
	for _, c := range g.sortedClients() {
		if uid != "" && c.uid != uid {
			continue
		}
		info := c.conn.Info()
		out = append(out, ConnInfo{ID: c.conn.ID(), UID: c.uid, Addr: info.RemoteAddr, Listener: info.Listener,
			DeviceFlag: uint8(c.flag), DeviceID: c.device, Version: c.version, Uptime: now - c.openedAt,
			Idle: now - c.lastInbound, InMsgs: c.inMsgs, OutMsgs: c.outMsgs, InBytes: c.inBytes, OutBytes: c.outBytes,
			PendingRecvs: len(c.pending)})
	}
	return out
}

// Ready reports whether the node serves (for /readyz): every slot it
// replicates has a leader, those it leads have caught up, and it knows the
// system uids. Reply: ReadyReply.
type Ready struct{}

// ReadyReply says whether the node serves, and if not, why.
type ReadyReply struct {
	Ready  bool
	Reason string
}

func (Ready) run(a *apiLoop, done func(any, error)) error {
	return Stats{}.run(a, func(v any, _ error) {
		st := v.(StatsReply)
		switch {
		case st.DiskFull:
			done(ReadyReply{Reason: "disk full: writes refused until space returns"}, nil)
			return
		case st.LeaderlessSlots > 0:
			done(ReadyReply{Reason: "slots without a leader: " + itoa(st.LeaderlessSlots) + " of " + itoa(st.Slots)}, nil)
			return
		case st.UnknownLeaders > 0:
			done(ReadyReply{Reason: "slots replicated elsewhere whose leader is not yet known here: " + itoa(st.UnknownLeaders)}, nil)
			return
		case st.CaughtUpSlots < st.LeaderSlots:
			done(ReadyReply{Reason: "slots catching up: " + itoa(st.CaughtUpSlots) + " of " + itoa(st.LeaderSlots) + " led here ready"}, nil)
			return
		case st.SystemUnknown:
			done(ReadyReply{Reason: "system uids not yet known"}, nil)
			return
		}
		done(ReadyReply{Ready: true}, nil)
	})
}

func itoa(n int) string { return strconv.Itoa(n) }
