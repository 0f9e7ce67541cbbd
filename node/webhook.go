package node

import (
	"time"

	"github.com/jindou-im/jindou/node/state"
	"github.com/jindou-im/jindou/runtime"
)

// Webhooks: msg.notify and msg.offline, at least once and in seq order per
// channel.
//
// The queue is each slot's outbox (node/state/webhook.go), replicated
// state written when a stored send applies. The slot's leader, once it has
// caught up, reads the outbox from the last id it delivered, POSTs a batch
// (msg.notify: one JSON array of up to BatchSize messages; msg.offline:
// one POST per message that has offline recipients), one POST at a time,
// and on 200 for every POST of the batch proposes OpWebhookAck through the
// slot's raft group, which deletes the batch's entries on every replica. A
// failed POST is retried, the same bytes, after a backoff that doubles up
// to MaxBackoff, forever. A new leader (or this node after a restart)
// starts from what the outbox still holds: what was POSTed but not yet
// acknowledged in the log is POSTed again (the duplicates of at least
// once), never skipped.

// hooks is one slot loop's webhook sender.
type hooks struct {
	sl  *slotLoop
	cfg WebhookConfig
	// on: stored messages enter the outbox and are sent.
	on bool
	// gen numbers activations of slots, so that completions of a batch
	// sent before a slot lost and regained leadership are ignored.
	gen   uint64
	slots map[int]*hookSlot
	// queued sums the slots' queued entries (for the warnings).
	queued int
	// failing: the last POST failed (logged once per change).
	failing    bool
	warnedStep int
	presence   presenceView
	status     statusQueue
	stats      hookStats
}

// hookStats are a slot loop's webhook counters.
type hookStats struct {
	// Delivered counts messages whose batch the receiver acknowledged;
	// Posts the POSTs made (retries included), Failures the failed ones.
	Delivered, Posts, Failures int64
	// Missing counts outbox entries whose message was not found (never
	// expected: messages are not deleted).
	Missing int64
	// StatusSent counts user.onlinestatus lines acknowledged;
	// StatusDropped those dropped past maxStatusLines.
	StatusSent, StatusDropped int64
}

// hookSlot is one slot's sending state; it holds only while the slot is
// active (led here and caught up).
type hookSlot struct {
	active bool
	term   uint64
	gen    uint64
	// sentUpTo is the last outbox id whose batch the receiver
	// acknowledged; the next batch starts after it.
	sentUpTo int64
	// queued counts the outbox entries after sentUpTo.
	queued   int
	batch    *hookBatch
	failures int
	retry    runtime.Timer
}

// hookBatch is a batch being delivered: its POSTs, sent one at a time.
type hookBatch struct {
	lastID int64
	n      int
	calls  []hookCall
	next   int
}

type hookCall struct {
	event string
	body  []byte
}

// hookTimer is every webhook timer's tag; hookDone every call's.
type hookTimer struct {
	What hookTimerKind
	Slot int
	Gen  uint64
}

type hookTimerKind uint8

const (
	hookTick    hookTimerKind = iota // look for batches
	hookRetry                        // send a failed POST again
	statusTick                       // send user.onlinestatus
	statusRetry                      // send it again after a failure
)

type hookDone struct {
	Status bool // a user.onlinestatus POST
	Slot   int
	Gen    uint64
}

func (t hookTimer) Digest() uint64 { return uint64(t.What)<<56 ^ uint64(t.Slot)<<40 ^ t.Gen }
func (t hookDone) Digest() uint64  { return uint64(b2i(t.Status))<<56 ^ uint64(t.Slot)<<40 ^ t.Gen }

func newHooks(sl *slotLoop) *hooks {
	cfg := sl.n.cfg.Webhook
	return &hooks{sl: sl, cfg: cfg, on: cfg.outboxOn(), slots: map[int]*hookSlot{}, presence: newPresenceView()}
}

// start arms the timers (from Node.Start, once the loop exists).
func (h *hooks) start() {
	if h.on {
		h.sl.loop.After(h.cfg.BatchInterval, hookTimer{What: hookTick})
	}
	if h.cfg.On(EventOnlineStatus) {
		h.sl.loop.After(h.cfg.StatusInterval, hookTimer{What: statusTick})
	}
}

func (h *hooks) onTimer(t hookTimer) {
	switch t.What {
	case hookTick:
		h.tick()
		h.sl.loop.After(h.cfg.BatchInterval, hookTimer{What: hookTick})
	case hookRetry:
		if hs := h.current(t.Slot, t.Gen); hs != nil && hs.batch != nil {
			hs.retry = nil
			h.post(t.Slot, hs)
		}
	case statusTick:
		h.status.tick(h)
		h.sl.loop.After(h.cfg.StatusInterval, hookTimer{What: statusTick})
	case statusRetry:
		h.status.retryArmed = false
		h.status.send(h)
	}
}

// current is slot's state if the completion or timer of generation gen
// still belongs to it.
func (h *hooks) current(slot int, gen uint64) *hookSlot {
	hs := h.slots[slot]
	if hs == nil || !hs.active || hs.gen != gen {
		return nil
	}
	return hs
}

// refresh activates the slot's sending when this node leads it and has
// caught up (in a new term: afresh), and stops it otherwise. fresh: it was
// activated now (its queue was counted from the store).
func (h *hooks) refresh(s *slot) (hs *hookSlot, fresh bool) {
	hs = h.slots[s.id]
	if hs == nil {
		hs = &hookSlot{}
		h.slots[s.id] = hs
	}
	want := s.caughtUp && h.sl.isLeader(s)
	term := s.rn.BasicStatus().HardState.GetTerm()
	switch {
	case want && (!hs.active || hs.term != term):
		h.deactivate(hs)
		h.gen++
		*hs = hookSlot{active: true, term: term, gen: h.gen}
		h.adjust(hs, state.CountOutbox(h.sl.n.db, s.id, 0))
		return hs, true
	case !want && hs.active:
		h.deactivate(hs)
	}
	return hs, false
}

func (h *hooks) deactivate(hs *hookSlot) {
	if hs.retry != nil {
		hs.retry.Stop()
	}
	h.adjust(hs, -hs.queued)
	*hs = hookSlot{}
}

func (h *hooks) adjust(hs *hookSlot, delta int) {
	hs.queued += delta
	h.queued += delta
}

// stored: a message of slot s entered the outbox (called after its apply
// batch is committed).
func (h *hooks) stored(s *slot) {
	if !h.on {
		return
	}
	hs, fresh := h.refresh(s)
	if !hs.active {
		return
	}
	if !fresh {
		h.adjust(hs, 1)
	}
	h.warnBacklog()
	if hs.batch == nil && hs.queued >= h.cfg.BatchSize {
		h.pump(s, hs)
	}
}

// tick starts a batch on every active slot with something queued.
func (h *hooks) tick() {
	for _, id := range h.sl.slotIDs {
		s := h.sl.slots[id]
		hs, _ := h.refresh(s)
		if hs.active && hs.batch == nil && hs.queued > 0 {
			h.pump(s, hs)
		}
	}
}

// pump reads the next batch and sends its first POST; a batch with
// nothing to POST (no offline recipients, msg.notify off) is acknowledged
// at once and the next one read.
func (h *hooks) pump(s *slot, hs *hookSlot) {
	for hs.batch == nil && hs.queued > 0 {
		b := h.readBatch(s, hs)
		if b == nil {
			return
		}
		hs.batch = b
		if len(b.calls) > 0 {
			h.post(s.id, hs)
			return
		}
		h.finish(s, hs)
	}
}

func (h *hooks) readBatch(s *slot, hs *hookSlot) *hookBatch {
	db := h.sl.n.db
	ents := state.ReadOutbox(db, s.id, hs.sentUpTo, h.cfg.BatchSize)
	if len(ents) < h.cfg.BatchSize {
		h.adjust(hs, len(ents)-hs.queued) // exact: fewer than a batch are left
	}
	if len(ents) == 0 {
		return nil
	}
	msgs := make([]*state.Message, 0, len(ents))
	for _, e := range ents {
		m := state.ReadMessage(db, s.id, e.Ch, e.Seq)
		if m == nil {
			h.stats.Missing++
			continue
		}
		msgs = append(msgs, m)
	}
	b := &hookBatch{lastID: ents[len(ents)-1].ID, n: len(ents)}
	if h.cfg.On(EventMsgNotify) && len(msgs) > 0 {
		b.calls = append(b.calls, hookCall{EventMsgNotify, notifyBody(msgs)})
	}
	if h.cfg.On(EventMsgOffline) {
		for _, m := range msgs {
			if to := h.offlineOf(s, m); len(to) > 0 {
				b.calls = append(b.calls, hookCall{EventMsgOffline, offlineBody(m, to, h.cfg.CompressOver, uint64(h.sl.n.env.Node()))})
			}
		}
	}
	return b
}

// offlineOf are m's recipients whose master device is offline, the sender
// and the system uids excepted (WuKongIM's msg.offline rule).
func (h *hooks) offlineOf(s *slot, m *state.Message) []string {
	var out []string
	for _, uid := range s.m.Recipients(h.sl.n.db, m.Channel) {
		if uid == m.FromUID || h.sl.system[uid] || h.masterOnline(uid) {
			continue
		}
		out = append(out, uid)
	}
	return out
}

// post sends the batch's next POST.
func (h *hooks) post(slot int, hs *hookSlot) {
	c := hs.batch.calls[hs.batch.next]
	h.stats.Posts++
	h.call(c.event, c.body, hookDone{Slot: slot, Gen: hs.gen})
}

func (h *hooks) call(event string, body []byte, tag hookDone) {
	h.sl.n.env.Outbound().Call(h.sl.loop, runtime.OutboundRequest{
		Method: "POST", URL: h.cfg.eventURL(event), ContentType: "application/json",
		Body: body, Timeout: h.cfg.Timeout,
	}, tag)
}

func (h *hooks) onDone(e runtime.OutboundDone) {
	t, ok := e.Tag.(hookDone)
	if !ok {
		return
	}
	if t.Status {
		h.status.onDone(h, e)
		return
	}
	hs := h.current(t.Slot, t.Gen)
	if hs == nil || hs.batch == nil {
		return // the slot was deactivated since: the new leader resends
	}
	if e.Err != nil || e.Status != 200 {
		h.failed(hs, e)
		hs.retry = h.sl.loop.After(h.backoff(hs.failures), hookTimer{What: hookRetry, Slot: t.Slot, Gen: t.Gen})
		return
	}
	h.succeeded()
	hs.failures = 0
	hs.batch.next++
	if hs.batch.next < len(hs.batch.calls) {
		h.post(t.Slot, hs)
		return
	}
	s := h.sl.slots[t.Slot]
	if s == nil { // the replica moved away meanwhile: its new leader resends
		h.deactivate(hs)
		return
	}
	h.finish(s, hs)
	if hs.queued >= h.cfg.BatchSize {
		h.pump(s, hs)
	}
}

// finish proposes the acknowledgement of a delivered batch and moves on.
func (h *hooks) finish(s *slot, hs *hookSlot) {
	b := hs.batch
	hs.batch = nil
	hs.sentUpTo = b.lastID
	h.adjust(hs, -min(b.n, hs.queued))
	h.stats.Delivered += int64(b.n)
	cmd := &state.Command{Op: state.OpWebhookAck, Seq: uint64(b.lastID)}
	h.sl.propose(s, cmd, pendingProposal{reply: replyTo{addr: h.sl.n.self(h.sl.name), Req: uint64(s.id)}})
}

// onAcked: an acknowledgement this loop proposed applied (Err nil) or
// failed; after a failure the slot starts again from what the outbox
// holds.
func (h *hooks) onAcked(m proposeDone) {
	if m.Err == nil {
		return
	}
	if hs := h.slots[int(m.Reply.Req)]; hs != nil {
		h.deactivate(hs)
	}
}

// backoff is the delay before the retry after n failures in a row.
func (h *hooks) backoff(n int) time.Duration {
	d := webhookMinBackoff
	for i := 1; i < n && d < h.cfg.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, h.cfg.MaxBackoff)
}

// failed counts a failed POST and logs the first of a run of failures.
func (h *hooks) failed(hs *hookSlot, e runtime.OutboundDone) {
	hs.failures++
	h.stats.Failures++
	if h.failing {
		return
	}
	h.failing = true
	h.sl.n.env.Log().Warn("webhook: the receiver failed; retrying with backoff until it answers 200",
		"loop", h.sl.name, "url", h.cfg.URL, "status", e.Status, "err", e.Err, "backlog", h.queued)
}

func (h *hooks) succeeded() {
	if !h.failing {
		return
	}
	h.failing = false
	h.warnedStep = 0
	h.sl.n.env.Log().Info("webhook: the receiver answers again", "loop", h.sl.name, "backlog", h.queued)
}

// warnBacklog warns, while the receiver fails, each time the loop's
// backlog passes another webhookBacklogWarnStep.
func (h *hooks) warnBacklog() {
	if !h.failing || h.queued < (h.warnedStep+1)*webhookBacklogWarnStep {
		return
	}
	h.warnedStep = h.queued / webhookBacklogWarnStep
	h.sl.n.env.Log().Warn("webhook: backlog growing while the receiver fails", "loop", h.sl.name, "backlog", h.queued)
}

// hookLoopStats are a slot loop's webhook figures.
type hookLoopStats struct {
	hookStats
	backlog       int
	statusPending int
	// inFlight: messages of batches being posted; retrying: slots whose
	// batch failed and waits for its retry.
	inFlight, retrying int
	// oldestAtMs is the proposal time of the oldest undelivered message
	// (unix ms), 0 if none.
	oldestAtMs int64
}

func (h *hooks) loopStats() hookLoopStats {
	out := hookLoopStats{hookStats: h.stats, backlog: h.queued, statusPending: len(h.status.lines)}
	if !h.on {
		return out
	}
	for _, id := range h.sl.slotIDs {
		if hs := h.slots[id]; hs == nil || !hs.active || hs.queued == 0 {
			continue
		}
		if hs := h.slots[id]; hs.batch != nil {
			out.inFlight += hs.batch.n
			out.retrying += b2i(hs.failures > 0)
		}
		if e := state.ReadOutbox(h.sl.n.db, id, h.slots[id].sentUpTo, 1); len(e) == 1 && (out.oldestAtMs == 0 || e[0].AtMs < out.oldestAtMs) {
			out.oldestAtMs = e[0].AtMs
		}
	}
	return out
}
