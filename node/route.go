package node

import (
	"cmp"
	"maps"
	"slices"
	"time"

	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/runtime"
)

// Routing: a request for a slot (a send, a proposal, a read) goes first to
// the loop of this node that routes the slot (Node.slotAddr). That loop
// serves it if it leads the slot here, and otherwise passes it on to the
// same-named loop of the node it believes leads the slot: the slot's raft
// leader where this node replicates it, else the leader the slot's loops
// announced (leadersMsg), else the slot's first replica. The answer goes
// straight back to the requester by its reply address. A request with no
// leader in sight waits (deferred); one passed on too often, because
// beliefs are stale during an election, is refused with ErrNotLeader, and
// the requester retries (a client's retry of a send is deduplicated).

// deferredMsg is a request that waits, with its arrival time.
type deferredMsg struct {
	m  runtime.Msg
	at time.Duration
}

// leaderHint is a slot's leader as announced, in term.
type leaderHint struct {
	node runtime.NodeID
	term uint64
}

// awaitingSend is a person send waiting for its recipient's facts.
type awaitingSend struct {
	m      slotSend
	system bool
	at     time.Duration
}

// requestSlot is the slot a routed request is for.
func requestSlot(m runtime.Msg) int {
	switch m := m.(type) {
	case slotSend:
		return m.Slot
	case slotPropose:
		return m.Slot
	case slotRead:
		return m.Slot
	}
	return allSlots
}

// dispatch serves m here, passes it on to its slot's leader, or reports
// that it must wait.
func (sl *slotLoop) dispatch(m runtime.Msg) bool {
	id := requestSlot(m)
	if id == allSlots {
		if !sl.canServe(m) {
			return false
		}
		sl.serve(m)
		return true
	}
	if s := sl.slots[id]; s != nil && sl.isLeader(s) {
		if !sl.canServe(m) {
			return false
		}
		sl.serve(m)
		return true
	}
	to := sl.leaderOf(id)
	if to == 0 || to == sl.n.env.Node() {
		return false
	}
	sl.forward(to, m)
	return true
}

// leaderOf is the node believed to lead slot id, or 0 for none known.
func (sl *slotLoop) leaderOf(id int) runtime.NodeID {
	if s := sl.slots[id]; s != nil && !s.empty() {
		// A replica trusts only raft: a hint may predate the election
		// raft is holding.
		return runtime.NodeID(s.lead)
	}
	if h, ok := sl.hints[id]; ok {
		return h.node
	}
	if id == ctrlGroup {
		return sl.ctrlFallback()
	}
	return sl.n.firstReplica(id)
}

// forward passes m on to the loop of node to, one hop further.
func (sl *slotLoop) forward(to runtime.NodeID, m runtime.Msg) {
	var hops uint8
	switch r := m.(type) {
	case slotSend:
		r.Hops++
		hops, m = r.Hops, r
	case slotPropose:
		r.Hops++
		hops, m = r.Hops, r
	case slotRead:
		r.Hops++
		hops, m = r.Hops, r
	}
	if hops > maxForwardHops {
		sl.refuse(m, ErrNotLeader)
		return
	}
	sl.stats.Forwarded++
	sl.n.post(addr{Node: to, Loop: sl.name}, m)
}

// acceptsFromPeer reports whether m, decoded from another node, is one a
// slot loop takes: a request for a slot this loop routes, an announcement,
// or an answer to one of its reads.
func (sl *slotLoop) acceptsFromPeer(m runtime.Msg) bool {
	switch m.(type) {
	case systemChanged, leadersMsg, replicaRemoved, needSnapshot:
		return true
	case readDone:
		return sl.n.ownAnswer(m.(answer))
	case slotSend, slotPropose, slotRead:
		id := requestSlot(m)
		if id == ctrlGroup {
			return sl.index == 0 && (sl.n.isMember(replyOf(m).Node) || isCtrlJoin(m))
		}
		return id >= 0 && id < sl.n.cfg.Slots && id%sl.n.cfg.SlotLoops == sl.index && sl.n.isMember(replyOf(m).Node)
	}
	return false
}

// announce tells the other members' same-named loops which slots this
// loop leads: those newly led since the last announcement, or all of them
// (the periodic one). Slot 0's leader also sends the system uids.
func (sl *slotLoop) announce(all bool) {
	others := sl.n.others()
	var m leadersMsg
	for _, id := range sl.slotIDs {
		s := sl.slots[id]
		if !s.caughtUp {
			continue
		}
		term := s.term
		if all || s.announcedTerm != term {
			s.announcedTerm = term
			m.Slots, m.Terms = append(m.Slots, id), append(m.Terms, term)
		}
		if id == 0 && all {
			sl.announceSystem(s)
		}
	}
	if len(m.Slots) == 0 {
		return
	}
	for _, p := range others {
		sl.n.post(addr{Node: p, Loop: sl.name}, m)
	}
}

// onLeaders takes another node's announcement.
func (sl *slotLoop) onLeaders(m leadersMsg) {
	for i, id := range m.Slots {
		if (id >= sl.n.cfg.Slots || id%sl.n.cfg.SlotLoops != sl.index) && !(id == ctrlGroup && sl.index == 0) {
			continue
		}
		if h, ok := sl.hints[id]; !ok || m.Terms[i] >= h.term {
			sl.hints[id] = leaderHint{node: m.From, term: m.Terms[i]}
		}
	}
	sl.serveDeferred()
}

// announceSystem sends slot 0's system uids to every slot loop of the
// cluster, this one included.
func (sl *slotLoop) announceSystem(s *slot) {
	m := systemChanged{UIDs: sortedKeys(loadSystemUIDs(sl.n.db)), Index: s.applied}
	sl.n.broadcastSlotLoops(m)
	for _, p := range sl.n.others() {
		for i := range sl.n.cfg.SlotLoops {
			sl.n.post(addr{Node: p, Loop: slotLoopName(i)}, m)
		}
	}
}

// onSystem keeps the newest system uids announced.
func (sl *slotLoop) onSystem(m systemChanged) {
	if sl.systemReady && m.Index < sl.systemIndex {
		return
	}
	sl.system = map[string]bool{}
	for _, uid := range m.UIDs {
		sl.system[uid] = true
	}
	sl.systemIndex, sl.systemReady = m.Index, true
}

// expire drops requests that waited longer than their requesters do.
func (sl *slotLoop) expire() {
	sl.expireGatherings()
	sl.expireRefusals()
	now := sl.n.env.Clock().Now()
	kept := sl.deferred[:0]
	for _, d := range sl.deferred {
		if now-d.at < sl.n.cfg.RequestTimeout {
			kept = append(kept, d)
			continue
		}
		sl.refuse(d.m, ErrNotLeader)
	}
	clear(sl.deferred[len(kept):])
	sl.deferred = kept
	//lint:maporder order-free: deleting the expired entries ends the same in any order
	for id, a := range sl.awaitingFacts {
		if now-a.at >= forwardedTimeout {
			delete(sl.awaitingFacts, id)
		}
	}
	for _, id := range sl.slotIDs {
		s := sl.slots[id]
		//lint:maporder order-free: deleting the expired proposals ends the same in any order
		for n, p := range s.pending {
			if now-p.at >= forwardedTimeout {
				delete(s.pending, n)
			}
		}
	}
}

// fetchFacts asks the slot holding a person send's facts for them; the
// send goes on in onFacts.
func (sl *slotLoop) fetchFacts(m slotSend, system bool, factsSlot int) {
	sl.nextReq++
	id := sl.nextReq
	sl.awaitingFacts[id] = awaitingSend{m: m, system: system, at: sl.n.env.Clock().Now()}
	q := queryPersonFacts{Ch: m.Req.Ch, From: m.Req.Cmd.From}
	sl.n.post(sl.n.slotAddr(factsSlot), slotRead{Slot: factsSlot, Query: q, Reply: replyTo{addr: sl.n.self(sl.name), Req: id}})
}

// onFacts goes on with a person send once its facts arrived: decided here
// if the slot is still led and caught up here, routed anew otherwise.
func (sl *slotLoop) onFacts(d readDone) {
	a, ok := sl.awaitingFacts[d.Reply.Req]
	if !ok {
		return
	}
	delete(sl.awaitingFacts, d.Reply.Req)
	pf, isFacts := d.Result.(factsResult)
	if d.Err != nil || !isFacts {
		sl.n.answer(a.m.Reply, sendDone{Reply: a.m.Reply, Res: sendResult{Reason: proto.ReasonSystemError, Err: d.Err}})
		return
	}
	s := sl.slots[a.m.Slot]
	if s == nil || !sl.isLeader(s) || !s.caughtUp {
		sl.onMsg(a.m)
		return
	}
	sl.admit(s, a.m, decidePerson(pf, a.system))
}

func sortedKeys[K cmp.Ordered, V any](m map[K]V) []K { return slices.Sorted(maps.Keys(m)) }

// replyOf is a routed request's reply address.
func replyOf(m runtime.Msg) replyTo {
	switch m := m.(type) {
	case slotSend:
		return m.Reply
	case slotPropose:
		return m.Reply
	case slotRead:
		return m.Reply
	}
	return replyTo{}
}
