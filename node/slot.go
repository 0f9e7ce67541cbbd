package node

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/runtime"
	"go.etcd.io/raft/v3"
	pb "go.etcd.io/raft/v3/raftpb"
)

// ErrNotLeader: the slot has no leader here to take the proposal.
var ErrNotLeader = errors.New("node: slot leader unavailable")

// slotLoop owns a set of slots: their raft groups, their state machines,
// and every read of their applied state.
type slotLoop struct {
	n    *Node
	loop runtime.Loop
	// nonce tells this incarnation's proposals from earlier ones.
	nonce    uint64
	nextProp uint64
	slots    map[int]*slot
	slotIDs  []int // sorted, for deterministic iteration
	// system is the set of system uids, kept from slot 0's state.
	system map[string]bool
	// ephemeralN numbers no_persist messages.
	ephemeralN int64
	// deferred are sends and queries that wait for their slot to catch up,
	// in arrival order.
	deferred []runtime.Msg
	stats    slotStats
}

// slotStats are a slot loop's counters since start.
type slotStats struct {
	Proposals, Applied, MessagesStored, DiskCommits, DiskRetries, Compactions int64
}

// slot is one raft group and its state machine.
type slot struct {
	id      int
	rn      *raft.RawNode
	storage *raft.MemoryStorage
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
	// waiting holds proposals made while the slot had no leader.
	waiting []waitingProposal
	// applied and appliedTerm are the index and term of the last applied
	// entry.
	applied, appliedTerm uint64
	// compacting is set while a log compaction is being made durable.
	compacting bool
	// cache holds the slot's hot records (see slotCache).
	cache slotCache
	// caughtUp: this node leads the slot and has applied an entry of its
	// term, so everything committed before is applied. Only then may the
	// slot's applied state answer reads or decide a send (raft's rule for
	// reads; after a crash the commit index on disk may lag).
	caughtUp bool
}

type pendingProposal struct {
	done   func(applyResult, error)
	except connRef
}

type waitingProposal struct {
	cmd    *command
	except connRef
	done   func(applyResult, error)
}

// Messages a slot loop handles.

// slotPropose proposes cmd to slot; done runs on the slot loop.
type slotPropose struct {
	slot int
	cmd  *command
	// except is the connection a message came from, not to be echoed to.
	except connRef
	done   func(applyResult, error)
}

// slotSend checks a send's permission, then proposes it.
type slotSend struct {
	slot   int
	req    sendRequest
	except connRef
	done   func(sendResult)
}

// slotQuery runs fn against the slot loop's view of the store, once slot
// is caught up (every slot of the loop if slot < 0).
type slotQuery struct {
	slot int
	fn   func(r pebble.Reader, sl *slotLoop)
}

// systemChanged tells a slot loop to reload the system uids.
type systemChanged struct{}

func (slotPropose) Kind() string   { return "slot-propose" }
func (slotSend) Kind() string      { return "slot-send" }
func (slotQuery) Kind() string     { return "slot-query" }
func (systemChanged) Kind() string { return "system-changed" }

type tickTag struct{}

// persistTag completes (and retryTag retries) the group commit of the
// Readies of slots.
type persistTag struct{ slots []int }
type retryTag struct{ slots []int }

// compactTag completes a log compaction of slot up to index.
type compactTag struct {
	slot  int
	index uint64
}

func (sl *slotLoop) Handle(ev runtime.Event) {
	switch e := ev.(type) {
	case runtime.TimerFired:
		switch t := e.Tag.(type) {
		case tickTag:
			for _, id := range sl.slotIDs {
				sl.slots[id].rn.Tick()
			}
			sl.loop.After(sl.n.cfg.TickInterval, tickTag{})
		case retryTag:
			sl.persist(t.slots)
		}
	case runtime.DiskDone:
		if c, ok := e.Tag.(compactTag); ok {
			sl.onCompacted(sl.slots[c.slot], c.index, e.Err)
			return
		}
		ids := e.Tag.(persistTag).slots
		if e.Err != nil {
			sl.stats.DiskRetries++
			// Not durable, or not known to be: write the same Readies again.
			sl.loop.After(10*time.Millisecond, retryTag{ids})
			return
		}
		for _, id := range ids {
			sl.onPersisted(sl.slots[id])
		}
	case runtime.Posted:
		sl.onMsg(e.Msg)
	case runtime.PeerMsg:
		sl.onPeer(e)
	}
	sl.drive()
}

func (sl *slotLoop) onMsg(m runtime.Msg) {
	if q, ok := m.(slotQueryNow); ok {
		q.fn(sl) // at once, caught up or not
		return
	}
	if !sl.canServe(m) || len(sl.deferred) > 0 {
		sl.deferred = append(sl.deferred, m)
		return
	}
	sl.serve(m)
}

// canServe reports whether m's slot has caught up (see slot.caughtUp).
func (sl *slotLoop) canServe(m runtime.Msg) bool {
	switch m := m.(type) {
	case slotSend:
		return sl.slots[m.slot].caughtUp
	case slotQuery:
		if m.slot >= 0 {
			return sl.slots[m.slot].caughtUp
		}
		for _, id := range sl.slotIDs {
			if !sl.slots[id].caughtUp {
				return false
			}
		}
	}
	return true
}

// serveDeferred serves the deferred messages that can now be served, in
// order, stopping at the first that still has to wait.
func (sl *slotLoop) serveDeferred() {
	for len(sl.deferred) > 0 && sl.canServe(sl.deferred[0]) {
		m := sl.deferred[0]
		sl.deferred = sl.deferred[1:]
		sl.serve(m)
	}
}

func (sl *slotLoop) serve(m runtime.Msg) {
	switch m := m.(type) {
	case slotPropose:
		sl.propose(sl.slots[m.slot], m.cmd, m.except, m.done)
	case slotSend:
		sl.send(m)
	case slotQuery:
		m.fn(sl.n.db, sl)
	case systemChanged:
		sl.system = loadSystemUIDs(sl.n.db)
	default:
		panic(fmt.Sprintf("node: slot loop got %T", m))
	}
}

func (sl *slotLoop) onPeer(e runtime.PeerMsg) {
	slotID, m, err := decodeRaftMsg(e.Data)
	if err != nil {
		return // a corrupt peer message is dropped; raft retries
	}
	if s := sl.slots[slotID]; s != nil {
		_ = s.rn.Step(m)
	}
}

// propose hands cmd to the slot's raft group, or keeps it until the slot
// has a leader here.
func (sl *slotLoop) propose(s *slot, cmd *command, except connRef, done func(applyResult, error)) {
	if s.rn.BasicStatus().SoftState.RaftState != raft.StateLeader {
		if len(s.waiting) >= 10_000 {
			done(applyResult{}, ErrNotLeader)
			return
		}
		s.waiting = append(s.waiting, waitingProposal{cmd: cmd, except: except, done: done})
		return
	}
	sl.nextProp++
	cmd.Prop = proposal{Node: uint64(sl.n.env.Node()), Nonce: sl.nonce, N: sl.nextProp}
	sl.stats.Proposals++
	if err := s.rn.Propose(encode(cmd)); err != nil {
		done(applyResult{}, fmt.Errorf("%w: %v", ErrNotLeader, err))
		return
	}
	s.pending[sl.nextProp] = pendingProposal{done: done, except: except}
}

// drive turns the slots' Readies into work: one synced write of all their
// entries and HardStates (a group commit: one fsync for every slot of the
// loop), then, on its completion, each slot's messages, apply and Advance.
func (sl *slotLoop) drive() {
	var group []int
	for _, id := range sl.slotIDs {
		s := sl.slots[id]
		st := s.rn.BasicStatus()
		s.caughtUp = st.SoftState.RaftState == raft.StateLeader && s.appliedTerm == st.HardState.GetTerm()
		if len(s.waiting) > 0 && s.rn.BasicStatus().SoftState.RaftState == raft.StateLeader {
			w := s.waiting
			s.waiting = nil
			for _, p := range w {
				sl.propose(s, p.cmd, p.except, p.done)
			}
		}
		if s.persisting || !s.rn.HasReady() {
			continue
		}
		s.rd = s.rn.Ready()
		s.persisting = true
		group = append(group, id)
	}
	if len(group) > 0 {
		sl.persist(group)
	}
	sl.serveDeferred()
}

// persist makes the Readies of slots durable in one batch, asynchronously.
//
// When no Ready needs a sync (raft's MustSync: only commit indexes moved,
// and a lost commit index is learned again) the batch is written unsynced
// and the slots go on at once.
//
// Committed entries are applied first, before the new entries are synced:
// raft guarantees they were appended to stable storage in an earlier Ready
// (etcd raft's Ready.CommittedEntries contract), so their acknowledgements
// need not wait for this Ready's fsync. Acknowledging a message thus costs
// one fsync, not two.
func (sl *slotLoop) persist(slots []int) {
	for _, id := range slots {
		s := sl.slots[id]
		if len(s.rd.CommittedEntries) > 0 {
			sl.apply(s, s.rd.CommittedEntries, true)
			s.rd.CommittedEntries = nil // applied once, even if this write is retried
		}
	}
	b := sl.n.raftDB.NewBatch()
	sync := false
	for _, id := range slots {
		s := sl.slots[id]
		rd := &s.rd
		hs := rd.HardState
		if hs == nil {
			hs = &pb.HardState{}
		}
		prev, _, _ := s.storage.InitialState()
		prevLast, _ := s.storage.LastIndex()
		persistReady(b, s.id, rd, prevLast, s.fresh, s.conf)
		sync = sync || s.fresh || raft.MustSync(hs, prev, len(rd.Entries))
	}
	if !sync {
		if err := b.Commit(pebble.NoSync); err != nil {
			panic(fmt.Sprintf("node: hard states of slots %v: %v", slots, err))
		}
		for _, id := range slots {
			sl.onPersisted(sl.slots[id])
		}
		return
	}
	sl.stats.DiskCommits++
	sl.n.env.Disk().Commit(sl.loop, func() error { return b.Commit(pebble.Sync) }, persistTag{slots})
}

func (sl *slotLoop) onPersisted(s *slot) {
	rd := s.rd
	s.fresh = false
	if rd.HardState != nil && !raft.IsEmptyHardState(rd.HardState) {
		if err := s.storage.SetHardState(rd.HardState); err != nil {
			panic(err)
		}
	}
	if err := s.storage.Append(rd.Entries); err != nil {
		panic(err)
	}
	for _, m := range rd.Messages {
		sl.sendRaft(s, m)
	}
	sl.apply(s, rd.CommittedEntries, true)
	s.rn.Advance(rd)
	s.persisting = false
	s.rd = raft.Ready{}
}

func (sl *slotLoop) sendRaft(s *slot, m *pb.Message) {
	sl.n.env.Transport().Send(runtime.NodeID(m.GetTo()), sl.loop.Name(), encodeRaftMsg(s.id, m))
}

// apply applies committed entries to the state machine in one unsynced
// batch (the log is the durable truth), then completes proposals and
// delivers new messages when effects is set.
func (sl *slotLoop) apply(s *slot, ents []*pb.Entry, effects bool) {
	if len(ents) == 0 {
		return
	}
	b := sl.n.db.NewIndexedBatch()
	f := fsm{slot: s.id, b: b, dedupeWindowMs: sl.n.cfg.DedupeWindow.Milliseconds(), cache: &s.cache}
	type applied struct {
		cmd *command
		res applyResult
	}
	var done []applied
	for _, e := range ents {
		switch e.GetType() {
		case pb.EntryType_EntryConfChange, pb.EntryType_EntryConfChangeV2:
			var cc pb.ConfChangeV2
			if err := unmarshalConfChange(e, &cc); err != nil {
				panic(err)
			}
			s.conf = s.rn.ApplyConfChange(&cc)
			if err := sl.n.raftDB.Set(confStateKey(s.id), marshal(s.conf), pebble.NoSync); err != nil {
				panic(fmt.Sprintf("node: slot %d conf state: %v", s.id, err))
			}
		case pb.EntryType_EntryNormal:
			if len(e.GetData()) == 0 {
				continue // a new leader's empty entry
			}
			var cmd command
			decode(e.GetData(), &cmd)
			res := f.apply(&cmd)
			sl.stats.Applied++
			if cmd.Op == opSend && res.Msg != nil && !res.Duplicate {
				sl.stats.MessagesStored++
			}
			done = append(done, applied{&cmd, res})
		}
	}
	s.applied, s.appliedTerm = ents[len(ents)-1].GetIndex(), ents[len(ents)-1].GetTerm()
	mustSet(b, appliedKey(s.id), be64(ents[len(ents)-1].GetIndex()))
	if err := b.Commit(pebble.NoSync); err != nil {
		panic(fmt.Sprintf("node: apply slot %d: %v", s.id, err))
	}
	if !effects {
		return
	}
	sl.maybeCompact(s)
	for _, a := range done {

		sl.effects(s, a.cmd, a.res)
	}
}

// effects completes the proposer's request and pushes a new message out.
func (sl *slotLoop) effects(s *slot, cmd *command, res applyResult) {
	var except connRef
	if cmd.Prop.Node == uint64(sl.n.env.Node()) && cmd.Prop.Nonce == sl.nonce {
		if p, ok := s.pending[cmd.Prop.N]; ok {
			delete(s.pending, cmd.Prop.N)
			except = p.except
			p.done(res, nil)
		}
	}
	if res.SystemChanged {
		sl.n.broadcastSlotLoops(systemChanged{})
	}
	if cmd.Op == opSend && res.Msg != nil && !res.Duplicate && sl.isLeader(s) {
		sl.n.deliver(res.Msg, res.Recipients, except)
	}
}

func (sl *slotLoop) isLeader(s *slot) bool {
	return s.rn.BasicStatus().SoftState.RaftState == raft.StateLeader
}

// send checks a send against the channel's state, then proposes it; a
// no_persist message is delivered without being stored.
func (sl *slotLoop) send(m slotSend) {
	r := m.req
	if code := sl.checkSend(m.slot, r); code != proto.ReasonSuccess {
		m.done(sendResult{Reason: code})
		return
	}
	if r.cmd.Header.NoPersist {
		sl.ephemeralN++
		msg := &Message{
			MessageID: r.atMs<<22 | 1023<<12 | sl.ephemeralN&4095, ClientMsgNo: r.cmd.ClientMsgNo,
			FromUID: r.cmd.From, Channel: r.ch, Timestamp: int32(r.atMs / 1000), Header: r.cmd.Header,
			Setting: r.cmd.Setting, Expire: r.cmd.Expire, Topic: r.cmd.Topic, Payload: r.cmd.Payload,
		}
		recipients := r.ch.personMembers()
		if r.ch.Type == proto.ChannelGroup {
			recipients = readMembers(sl.n.db, memberPrefix(m.slot, tblSubscriber, r.ch))
		}
		m.done(sendResult{Reason: proto.ReasonSuccess, MessageID: msg.MessageID})
		sl.n.deliver(msg, recipients, m.except)
		return
	}
	cmd := &command{Op: opSend, AtMs: r.atMs, Ch: r.ch, Send: &r.cmd}
	sl.propose(sl.slots[m.slot], cmd, m.except, func(res applyResult, err error) {
		if err != nil {
			m.done(sendResult{Reason: proto.ReasonSystemError, Err: err})
			return
		}
		m.done(sendResult{Reason: proto.ReasonSuccess, MessageID: res.Msg.MessageID, Seq: res.Msg.Seq, Duplicate: res.Duplicate})
	})
}

// checkSend gathers the facts of the send rule from the store. Facts kept
// in other slots (a person's own blacklist, the system uids) are read from
// the local store: in a cluster of one every slot is local.
func (sl *slotLoop) checkSend(slotID int, r sendRequest) proto.ReasonCode {
	db := sl.n.db
	ch := r.ch
	f := sendFacts{channelType: ch.Type, system: r.system || sl.system[r.cmd.From]}
	if !supportedChannelType(ch.Type) {
		return checkSend(f)
	}
	if ch.Type == proto.ChannelGroup {
		rec := sl.channel(slotID, ch)
		f.info, f.whitelistSet = rec.Info, rec.WhitelistSize > 0
		_, f.subscriber = getValue(db, memberKey(slotID, tblSubscriber, ch, r.cmd.From))
		_, f.blacklisted = getValue(db, memberKey(slotID, tblBlacklist, ch, r.cmd.From))
		if f.whitelistSet {
			_, f.whitelisted = getValue(db, memberKey(slotID, tblWhitelist, ch, r.cmd.From))
		}
		return checkSend(f)
	}
	// A person chat: the peer's own lists (channel_id = the protected uid).
	peer := ch.PeerOf(r.cmd.From)
	own := ChannelKey{Type: proto.ChannelPerson, ID: peer}
	ps := slotOfChannel(own, sl.n.cfg.Slots)
	_, f.blacklisted = getValue(db, memberKey(ps, tblBlacklist, own, r.cmd.From))
	prec := sl.channel(ps, own)
	f.whitelistSet = prec.WhitelistSize > 0
	if f.whitelistSet {
		_, f.whitelisted = getValue(db, memberKey(ps, tblWhitelist, own, r.cmd.From))
	}
	f.info = prec.Info
	f.info.Exists = true
	return checkSend(f)
}

func loadSystemUIDs(r pebble.Reader) map[string]bool {
	set := map[string]bool{}
	for _, uid := range readMembers(r, tableKey(0, tblSystemUID)) {
		set[uid] = true
	}
	return set
}

// newSlot loads slot id from the store, replays what was committed but not
// applied (without effects: nobody waits for it), and starts its raft node.
func (sl *slotLoop) newSlot(id int, voters []uint64) (*slot, error) {
	d, err := loadSlot(sl.n.raftDB, sl.n.db, id, voters)
	if err != nil {
		return nil, err
	}
	hs, cs, err := d.storage.InitialState()
	if err != nil {
		return nil, err
	}
	s := &slot{id: id, storage: d.storage, fresh: d.fresh, conf: cs, pending: map[uint64]pendingProposal{}}
	commit := hs.GetCommit()
	if d.applied < commit {
		ents, err := d.storage.Entries(d.applied+1, commit+1, 1<<62)
		if err != nil {
			return nil, fmt.Errorf("slot %d replay: %w", id, err)
		}
		sl.replay(s, ents)
	}
	rn, err := raft.NewRawNode(&raft.Config{
		ID: uint64(sl.n.env.Node()), ElectionTick: sl.n.cfg.ElectionTicks, HeartbeatTick: sl.n.cfg.HeartbeatTicks,
		Storage: d.storage, Applied: max(d.applied, commit), MaxSizePerMsg: 1 << 20, MaxInflightMsgs: 256,
		MaxUncommittedEntriesSize: 64 << 20, CheckQuorum: true, PreVote: true, Logger: raftLogger{sl.n.env.Log().With("slot", id)},
	})
	if err != nil {
		return nil, fmt.Errorf("slot %d raft: %w", id, err)
	}
	s.rn = rn
	if len(cs.GetVoters()) == 1 && cs.GetVoters()[0] == uint64(sl.n.env.Node()) {
		_ = rn.Campaign()
	}
	return s, nil
}

// replay applies entries at start-up, before the raft node exists.
func (sl *slotLoop) replay(s *slot, ents []*pb.Entry) {
	var normal []*pb.Entry
	for _, e := range ents {
		if e.GetType() == pb.EntryType_EntryNormal {
			normal = append(normal, e)
		}
	}
	if len(normal) > 0 {
		last := ents[len(ents)-1]
		normal = append(normal, &pb.Entry{Index: new(last.GetIndex()), Term: new(last.GetTerm())})
		sl.apply(s, normal, false)
	}
}

func (sl *slotLoop) ownSlots(ids []int) {
	sl.slotIDs = slices.Sorted(slices.Values(ids))
}

// raftLogger routes etcd raft's log lines to the runtime's logger: its
// chatter at debug level, its warnings and errors as such.
type raftLogger struct{ log *slog.Logger }

func (l raftLogger) Debug(v ...any)                 { l.log.Debug(fmt.Sprint(v...)) }
func (l raftLogger) Debugf(format string, v ...any) { l.log.Debug(fmt.Sprintf(format, v...)) }
func (l raftLogger) Info(v ...any)                  { l.log.Debug(fmt.Sprint(v...)) }
func (l raftLogger) Infof(format string, v ...any)  { l.log.Debug(fmt.Sprintf(format, v...)) }
func (l raftLogger) Warning(v ...any)               { l.log.Warn(fmt.Sprint(v...)) }
func (l raftLogger) Warningf(format string, v ...any) {
	l.log.Warn(fmt.Sprintf(format, v...))
}
func (l raftLogger) Error(v ...any)                 { l.log.Error(fmt.Sprint(v...)) }
func (l raftLogger) Errorf(format string, v ...any) { l.log.Error(fmt.Sprintf(format, v...)) }
func (l raftLogger) Fatal(v ...any)                 { l.Panic(v...) }
func (l raftLogger) Fatalf(format string, v ...any) { l.Panicf(format, v...) }
func (l raftLogger) Panic(v ...any) {
	msg := fmt.Sprint(v...)
	l.log.Error(msg)
	panic(msg)
}
func (l raftLogger) Panicf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	l.log.Error(msg)
	panic(msg)
}

// maybeCompact drops the oldest applied entries once the log holds more
// than CompactLogAfter of them, keeping the newest half. The deletion is a
// disk commit that first syncs the store, so that what the dropped entries
// produced is durable before they go (the applied state is written
// unsynced).
func (sl *slotLoop) maybeCompact(s *slot) {
	first, _ := s.storage.FirstIndex()
	after := uint64(sl.n.cfg.CompactLogAfter)
	if s.compacting || s.applied < first+after {
		return
	}
	upTo := s.applied - after/2
	term, err := s.storage.Term(upTo)
	if err != nil {
		return
	}
	b := sl.n.raftDB.NewBatch()
	if err := b.DeleteRange(raftEntryKey(s.id, 0), raftEntryKey(s.id, upTo+1), nil); err != nil {
		panic(err)
	}
	mustSet(b, snapshotKey(s.id), append(be64(upTo), be64(term)...))
	s.compacting = true
	state := sl.n.db
	sl.n.env.Disk().Commit(sl.loop, func() error {
		// The applied state first (it is written unsynced), then the log.
		if err := state.LogData(nil, pebble.Sync); err != nil {
			return err
		}
		return b.Commit(pebble.Sync)
	}, compactTag{slot: s.id, index: upTo})
}

func (sl *slotLoop) onCompacted(s *slot, upTo uint64, err error) {
	s.compacting = false
	if err != nil {
		return // tried again after the next apply
	}
	sl.stats.Compactions++
	if _, err := s.storage.CreateSnapshot(upTo, s.conf, nil); err != nil && !errors.Is(err, raft.ErrSnapOutOfDate) {
		panic(fmt.Sprintf("node: slot %d snapshot at %d: %v", s.id, upTo, err))
	}
	if err := s.storage.Compact(upTo); err != nil && !errors.Is(err, raft.ErrCompacted) {
		panic(fmt.Sprintf("node: slot %d compact to %d: %v", s.id, upTo, err))
	}
}

// channel reads a channel record, through the slot's cache when this loop
// owns the slot.
func (sl *slotLoop) channel(slotID int, ch ChannelKey) channelRecord {
	s := sl.slots[slotID]
	if s == nil {
		return readChannel(sl.n.db, slotID, ch)
	}
	if rec, ok := s.cache.channel(ch); ok {
		return rec
	}
	rec := readChannel(sl.n.db, slotID, ch)
	s.cache.setChannel(ch, rec)
	return rec
}
