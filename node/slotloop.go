package node

import (
	"errors"
	"fmt"
	"time"

	"github.com/jindou-im/jindou/node/internal/invariant"
	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/node/state"
	"github.com/jindou-im/jindou/runtime"
	"go.etcd.io/raft/v3"
	pb "go.etcd.io/raft/v3/raftpb"
)

// Errors a slot loop answers with.
var (
	// ErrNotLeader: the slot has no leader here to take the proposal.
	ErrNotLeader = errors.New("node: slot leader unavailable")
	// ErrOverloaded: too many requests wait for the slot loop's slots to
	// catch up (Config.DeferredLimit); retry later.
	ErrOverloaded = errors.New("node: slot loop overloaded while recovering")
)

// slotLoop owns a set of slots: their raft groups, their state machines,
// and every read of their applied state.
type slotLoop struct {
	n    *Node
	name string
	// index is the loop's number: it routes slots s with s mod SlotLoops
	// = index.
	index int
	loop  runtime.Loop
	// nonce tells this incarnation's proposals from earlier ones.
	nonce    uint64
	nextProp uint64
	slots    map[int]*slot
	slotIDs  []int // sorted, for deterministic iteration
	// system is the set of system uids, kept from slot 0's state.
	// systemReady: the set is current — it was reloaded on the
	// systemChanged that slot 0's loop broadcasts once slot 0 has caught up
	// in this incarnation (entries that were committed before a crash may
	// be applied only then). Sends wait for it.
	system      map[string]bool
	systemReady bool
	// systemAnnounced: this loop owns slot 0 and has broadcast that.
	systemAnnounced bool
	// facts reads the send rule's facts of any slot (slotFacts, made once so
	// that a send allocates no interface value).
	facts state.Facts
	// foreign are the facts read from slots of other loops (facts_cache.go).
	foreign foreignFacts
	// deferred are requests that wait for their slot to catch up here or
	// for a leader to be known, in arrival order (at most
	// Config.DeferredLimit); one older than RequestTimeout is dropped (its
	// requester has given up).
	deferred []deferredMsg
	// routed are the slots this loop routes requests of, sorted: every
	// slot s with s mod SlotLoops = the loop's index, replicated on this
	// node (in slots) or not.
	routed []int
	// hints are the leaders other nodes announced for routed slots.
	hints map[int]leaderHint
	// awaitingFacts are person sends waiting for their recipient's facts
	// from another slot, by request id.
	awaitingFacts map[uint64]awaitingSend
	nextReq       uint64
	// readCtx numbers the ReadIndex requests of the loop's slots.
	readCtx uint64
	// systemIndex is slot 0's applied index at which system was announced.
	systemIndex uint64
	// drivePending: a wake is posted to this loop; drive runs when it
	// arrives, after the events queued before it (see Handle).
	drivePending bool
	entryBufs    entryBufs
	// table is the controller's cluster table as this node applied it
	// (loop 0, which holds the controller group, only).
	table *clusterTable
	stats slotStats
	hooks *hooks // the webhooks (webhook.go)
	// presence is the cluster's presence, for deliveries (presence.go).
	presence presenceTable
	// gathering are the snapshots arriving in chunks, by slot
	// (snapshot_stream.go).
	gathering map[int]*snapGather
	// refusals are sends about to be refused, waiting for the refusal's
	// confirmation, by request id (refusal.go).
	refusals map[uint64]refusalWait
	disk     diskEpisode // a full disk (diskfault.go)
}

// slotStats are a slot loop's counters since start.
type slotStats struct {
	Proposals, Applied, MessagesStored, DiskCommits, DiskRetries, Compactions int64
	// GroupCommitSlots sums the slots whose Readies shared a synced group
	// commit, so GroupCommitSlots/DiskCommits is the slots per fsync;
	// SharedCommits counts the commits that held more than one slot.
	GroupCommitSlots, SharedCommits int64
	// Duplicates counts sends answered from the dedupe window;
	// DedupeExpired, repeats of a client_msg_no stored anew because the
	// window had passed.
	Duplicates, DedupeExpired int64
	// DeferredHigh is the most requests that waited at once for slots to
	// catch up; Overloaded counts those refused past Config.DeferredLimit.
	DeferredHigh, Overloaded int64
	// Forwarded counts requests passed on to another node's loop;
	// ReadIndexes the ReadIndex rounds of reads; PeerDropped messages from
	// other nodes that did not decode or were not for a slot loop.
	Forwarded, ReadIndexes, PeerDropped int64
	// SnapshotsMade are snapshots this loop's leaders sent to followers
	// behind their compacted logs; SnapshotsApplied those its followers
	// caught up from.
	SnapshotsMade, SnapshotsApplied int64
	// LeaderChanges counts the times a slot of the loop became led here.
	LeaderChanges int64
	// ConfChanges are configuration changes its leaders proposed;
	// Transfers the leaderships they handed off before leaving a group;
	// ReplicasAdded and ReplicasDropped the replicas this node created
	// for the table and dropped once removed (membership.go).
	ConfChanges, Transfers, ReplicasAdded, ReplicasDropped int64
	// SnapshotChunks are the chunks this loop's leaders sent snapshots
	// in; SnapshotsGathered the snapshots its followers received whole
	// from chunks.
	SnapshotChunks, SnapshotsGathered int64
	// SnapshotsAsked counts entries from index 1 an empty replica refused,
	// asking for a snapshot instead.
	SnapshotsAsked int64
	// RefusalChecks counts the reads that confirmed refusals (refusal.go).
	RefusalChecks int64
	// RefusalsRecorded counts refusals applied from the log
	// (state/refuse.go): OpRefuse entries, and sends an earlier attempt's
	// refusal answered.
	RefusalsRecorded int64
	// DiskFullEpisodes counts the times the loop found its disk full;
	// DiskFullRefused the writes it refused meanwhile (diskfault.go).
	DiskFullEpisodes, DiskFullRefused int64
	// OfflineRecipients counts recipients of stored messages with no
	// connection anywhere (stats_delivery.go).
	OfflineRecipients int64
	// FactsNotices counts the notices of other loops that their person
	// facts changed or that a slot caught up (the copy of them dropped,
	// if held; facts_cache.go).
	FactsNotices int64
}

// slot is one raft group and its state machine.
type slot struct {
	id      int
	m       *state.Machine
	rn      *raft.RawNode
	storage *logStorage
	// fresh: the slot's configuration is not on disk yet; it goes with
	// the first persisted Ready.
	fresh bool
	conf  *pb.ConfState
	// persisting is set while the Ready in rd is being made durable; raft
	// gives no other Ready until it is advanced.
	persisting bool
	rd         raft.Ready
	// pending are this incarnation's proposals not yet applied, by N.
	pending map[uint64]pendingProposal
	// waiting holds proposals made while the slot had no leader (at most
	// maxWaitingProposals).
	waiting []waitingProposal
	// applied and appliedTerm are the index and term of the last applied
	// entry.
	applied, appliedTerm uint64
	// startLast is the log's last index when this incarnation started:
	// entries up to it are applied without effects (see apply).
	startLast uint64
	// compacting is set while a log compaction is being made durable.
	compacting bool
	// caughtUp: this node leads the slot and has applied an entry of its
	// term, so everything committed before is applied. Only then may the
	// slot's applied state answer reads or decide a send (raft's rule for
	// reads; after a crash the commit index on disk may lag).
	caughtUp bool
	// toldCaughtUp: the other loops were told that this slot caught up
	// in this incarnation (facts_cache.go).
	toldCaughtUp bool
	// leader, lead and term are raft's state at the last refresh: whether
	// this node leads, who does (0: unknown), in which term.
	leader     bool
	lead, term uint64
	// wasLeader: the slot was led here at the last drive; announcedTerm is
	// the term of the last leadersMsg sent for it.
	wasLeader     bool
	announcedTerm uint64
	// Reads of a replicated slot (more than one voter) wait for raft's
	// ReadIndex: readBatch for the next round, readWait for the round of a
	// context, readReady for the apply to reach the confirmed index.
	readBatch []slotRead
	readWait  map[uint64][]slotRead
	readReady []confirmedReads
	// confAt is when this leader proposed its last configuration change,
	// until it applies (0: none waits); removed: the group no longer has
	// this node, and the replica is dropped once no write is in flight.
	confAt  time.Duration
	removed bool

	// counters are the slot's own figures (stats_delivery.go).
	counters slotCounters
}

// pendingProposal is who waits for a proposal to apply: the requester's
// address, and whether it asked for a send (answered with sendDone) or a
// command (proposeDone).
type pendingProposal struct {
	reply replyTo
	send  bool
	// at is when it was proposed: a proposal a deposed leader made may
	// never be applied, and is forgotten after forwardedTimeout (its
	// requester gave up long before).
	at time.Duration
}

type waitingProposal struct {
	cmd *state.Command
	p   pendingProposal
}

func newSlotLoop(n *Node, name string, nonce uint64) *slotLoop {
	sl := &slotLoop{n: n, name: name, slots: map[int]*slot{}, nonce: nonce,
		hints: map[int]leaderHint{}, awaitingFacts: map[uint64]awaitingSend{}, presence: newPresenceTable()}
	sl.facts = slotFacts{sl}
	sl.hooks = newHooks(sl)
	return sl
}

// Handle runs one event. The Readies it produces are taken by drive when
// the wake it posts arrives, after every event already queued: a burst of
// SENDs becomes one Ready per slot and one group commit for the loop,
// instead of one fsync for the first SEND and another for the rest.
func (sl *slotLoop) Handle(ev runtime.Event) {
	switch e := ev.(type) {
	case runtime.TimerFired:
		sl.onTimer(e.Tag)
	case runtime.DiskDone:
		sl.onDiskDone(e)
	case runtime.Posted:
		if _, ok := e.Msg.(wake); ok {
			sl.drivePending = false
			sl.drive()
			return
		}
		sl.onMsg(e.Msg)
	case runtime.PeerMsg:
		sl.onPeer(e)
	case runtime.OutboundDone:
		sl.hooks.onDone(e)
	}
	if !sl.drivePending {
		sl.drivePending = true
		sl.loop.Post(wake{})
	}
}

func (sl *slotLoop) onTimer(tag any) {
	switch t := tag.(type) {
	case tickTag:
		for _, id := range sl.slotIDs {
			sl.slots[id].rn.Tick()
		}
		sl.loop.After(sl.n.cfg.TickInterval, tickTag{})
	case announceTag:
		if sl.n.clustered() {
			sl.announce(true)
		}
		sl.reconcile()
		sl.expire()
		sl.loop.After(announceInterval, announceTag{})
	case retryTag:
		sl.persist(t.slots)
	case hookTimer:
		sl.hooks.onTimer(t)
	case joinRetry:
		sl.askToJoin()
	}
}

func (sl *slotLoop) onDiskDone(e runtime.DiskDone) {
	if c, ok := e.Tag.(compactTag); ok {
		sl.onCompacted(sl.slots[c.slot], c.index, e.Err)
		return
	}
	ids := e.Tag.(persistTag).slots
	if e.Err != nil {
		// Not durable, or not known to be: write the same Readies again
		// (diskfault.go: a full disk also refuses new writes meanwhile).
		sl.onPersistFailed(ids, e.Err)
		return
	}
	sl.diskWritable() // diskfault.go
	for _, id := range ids {
		sl.onPersisted(sl.slots[id])
	}
}

// onMsg serves a request now, or defers it (in order) until its slot has
// caught up; reads marked Now and the loop's own signals are served at
// once.
func (sl *slotLoop) onMsg(m runtime.Msg) {
	switch m := m.(type) {
	case slotRead:
		if m.Now {
			sl.serve(m)
			return
		}
	case systemChanged:
		sl.onSystem(m)
		return
	case leadersMsg:
		sl.onLeaders(m)
		return
	case readDone:
		if !sl.onRefusalRead(m) {
			sl.onFacts(m)
		}
		return
	case presenceMsg:
		sl.hooks.onPresence(m)
		return
	case presenceUpdate, presenceFull: // cluster presence (presence.go)
		sl.onPresence(m)
		return
	case proposeDone: // a webhook acknowledgement this loop proposed
		sl.hooks.onAcked(m)
		return
	case viewChanged:
		sl.adopt()
		return
	case replicaRemoved:
		sl.onRemoved(m)
		return
	case needSnapshot:
		sl.onNeedSnapshot(m)
		return
	case handOffNow:
		sl.handOffAll()
		return
	case joinRetry:
		sl.askToJoin()
		return
	case factsChanged:
		sl.onFactsChanged(m)
		return
	}
	if len(sl.deferred) > 0 {
		sl.serveDeferred()
	}
	if len(sl.deferred) == 0 && sl.dispatch(m) {
		return
	}
	if len(sl.deferred) >= sl.n.cfg.DeferredLimit {
		sl.stats.Overloaded++
		sl.refuse(m, ErrOverloaded)
		return
	}
	sl.deferred = append(sl.deferred, deferredMsg{m: m, at: sl.n.env.Clock().Now()})
	sl.stats.DeferredHigh = max(sl.stats.DeferredHigh, int64(len(sl.deferred)))
}

// canServe reports whether m's slot has caught up (see slot.caughtUp).
func (sl *slotLoop) canServe(m runtime.Msg) bool {
	switch m := m.(type) {
	case slotSend:
		return sl.systemReady && sl.slots[m.Slot].caughtUp
	case slotRead:
		if m.Slot != allSlots {
			return sl.slots[m.Slot].caughtUp
		}
		for _, id := range sl.slotIDs {
			if !sl.slots[id].caughtUp {
				return false
			}
		}
	}
	return true
}

// serveDeferred serves or passes on the deferred requests that can now
// go, in order; those that still wait keep their order.
func (sl *slotLoop) serveDeferred() {
	kept := sl.deferred[:0]
	for _, d := range sl.deferred {
		if !sl.dispatch(d.m) {
			kept = append(kept, d)
		}
	}
	clear(sl.deferred[len(kept):])
	sl.deferred = kept
}

func (sl *slotLoop) serve(m runtime.Msg) {
	switch m := m.(type) {
	case slotPropose:
		sl.propose(sl.slots[m.Slot], m.Cmd, pendingProposal{reply: m.Reply})
	case slotSend:
		sl.send(m)
	case slotRead:
		sl.read(m)
	default:
		panic(fmt.Sprintf("node: slot loop got %T", m))
	}
}

// refuse answers a request that cannot wait with err.
func (sl *slotLoop) refuse(m runtime.Msg, err error) {
	switch m := m.(type) {
	case slotSend:
		sl.n.answer(m.Reply, sendDone{Reply: m.Reply, Res: sendResult{Reason: proto.ReasonSystemError, Err: err}})
	case slotRead:
		sl.n.answer(m.Reply, readDone{Reply: m.Reply, Err: err})
	case slotPropose:
		sl.n.answer(m.Reply, proposeDone{Reply: m.Reply, Err: err})
	}
}

// onPeer takes a message from another node: a raft message for one of
// the loop's slots, a request it routes, an announcement, or the answer to
// one of its own reads. Anything else, or what does not decode, is dropped
// and counted; raft and the requesters' timeouts cover the loss.
func (sl *slotLoop) onPeer(e runtime.PeerMsg) {
	if isSnapChunk(e.Data) {
		sl.onSnapChunk(e)
		return
	}
	if isRaftMsg(e.Data) {
		slotID, m, err := decodeRaftMsg(e.Data)
		s := sl.slots[slotID]
		if err != nil || s == nil || s.removed || checkPeerSnapshot(slotID, m) != nil {
			sl.stats.PeerDropped++
			return
		}
		sl.checkRemoved(s, e.From)
		if !sl.mayAppend(s, m, e.From) {
			return
		}
		_ = s.rn.Step(m)
		return
	}
	m, err := decodePeer(e.Data)
	if err == nil && sl.onPresencePeer(m, e.From) { // cluster presence (presence.go)
		return
	}
	if err != nil || !sl.acceptsFromPeer(m) {
		sl.stats.PeerDropped++
		return
	}
	if l, ok := m.(leadersMsg); ok {
		if !sl.n.isMember(e.From) {
			return // a node this one does not know as a member yet
		}
		l.From = e.From // who leads is who says so, not what it wrote
		m = l
	}
	sl.onMsg(m)
}

// propose hands cmd to the slot's raft group, or keeps it until the slot
// has a leader here.
func (sl *slotLoop) propose(s *slot, cmd *state.Command, p pendingProposal) {
	if !sl.isLeader(s) {
		if len(s.waiting) >= maxWaitingProposals {
			sl.complete(p, state.Result{}, ErrNotLeader)
			return
		}
		s.waiting = append(s.waiting, waitingProposal{cmd: cmd, p: p})
		return
	}
	if sl.refuseForDisk(p) { // diskfault.go
		return
	}
	sl.nextProp++
	cmd.Prop = state.Proposal{Node: uint64(sl.n.env.Node()), Nonce: sl.nonce, N: sl.nextProp}
	sl.stats.Proposals++
	s.counters.Proposals++
	if err := s.rn.Propose(s.m.EncodeCommand(cmd)); err != nil {
		sl.complete(p, state.Result{}, fmt.Errorf("%w: %v", ErrNotLeader, err))
		return
	}
	p.at = sl.n.env.Clock().Now()
	s.pending[sl.nextProp] = p
}

// complete answers the requester of an applied (or failed) proposal.
func (sl *slotLoop) complete(p pendingProposal, res state.Result, err error) {
	if !p.send {
		sl.n.answer(p.reply, proposeDone{Reply: p.reply, Err: err})
		return
	}
	r := sendResult{Reason: proto.ReasonSuccess}
	switch {
	case err != nil:
		r = sendResult{Reason: proto.ReasonSystemError, Err: err}
	case res.Refused != 0:
		r = sendResult{Reason: res.Refused, Recorded: true}
	default:
		r.MessageID, r.Seq, r.Duplicate = res.Msg.MessageID, res.Msg.Seq, res.Duplicate
	}
	sl.n.answer(p.reply, sendDone{Reply: p.reply, Res: r})
}

// isLeader reports whether raft led the slot here at the last refresh.
func (sl *slotLoop) isLeader(s *slot) bool { return s.leader }

// refresh reads the slot's raft state, once per drive: raft's BasicStatus
// allocates, and the send path asks for leadership once per message.
// Between drives the state read may be stale by the events since; that is
// safe: a proposal on a just-deposed leader is passed on by raft or
// dropped (and answered ErrNotLeader), a read waits for a ReadIndex round
// that the next drive routes anew if leadership went.
func (sl *slotLoop) refresh(s *slot) {
	st := s.rn.BasicStatus()
	s.leader, s.lead, s.term = st.SoftState.RaftState == raft.StateLeader, st.SoftState.Lead, st.HardState.GetTerm()
}

// mustServe asserts the caught-up rule for a request about to be served.
func (sl *slotLoop) mustServe(s *slot) {
	if !s.caughtUp || !sl.isLeader(s) {
		invariant.Fail("slot %d served while not caught up (caughtUp=%v leader=%v)", s.id, s.caughtUp, sl.isLeader(s))
	}
}

// slotFacts reads the send rule's facts through the slot's machine (and its
// cache) when this loop owns the slot, from the store otherwise.
type slotFacts struct{ sl *slotLoop }

func (f slotFacts) Channel(slotID int, ch state.ChannelKey) state.ChannelRecord {
	if s := f.sl.slots[slotID]; s != nil {
		return s.m.Channel(f.sl.n.db, ch)
	}
	return f.sl.foreign.channel(f.sl, slotID, ch)
}

func (f slotFacts) IsMember(slotID int, table byte, ch state.ChannelKey, uid string) bool {
	if s := f.sl.slots[slotID]; s != nil {
		return s.m.IsMember(f.sl.n.db, table, ch, uid)
	}
	return f.sl.foreign.isMember(f.sl, slotID, table, ch, uid)
}
