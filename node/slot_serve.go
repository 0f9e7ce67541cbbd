package node

import (
	"fmt"

	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/node/state"
)

// What a slot loop serves once a slot has caught up: sends and reads.

// send checks a send against the channel's state, then proposes it with a
// message id from the slot's generator; a no_persist message is delivered
// without being stored.
//
// A person send's facts live with the recipient's own channel, often in
// another slot: in a cluster of one they are read here, through the
// slot's machine if this loop owns it, else through the loop's copy of
// other loops' facts (facts_cache.go);
// in a larger cluster that slot may be led elsewhere, so they are read
// from its leader (a linearizable read, see reads.go) and the send is
// decided when they arrive (onFacts).
func (sl *slotLoop) send(m slotSend) {
	s := sl.slots[m.Slot]
	sl.mustServe(s)
	r := m.Req
	system := r.System || sl.system[r.Cmd.From]
	if r.Ch.Type == proto.ChannelPerson && !system && sl.n.clustered() {
		if ps := state.PersonFactsSlot(r.Ch, r.Cmd.From, sl.n.cfg.Slots); ps != s.id {
			sl.fetchFacts(m, system, ps)
			return
		}
	}
	check := state.SendCheck{Ch: r.Ch, From: r.Cmd.From, System: system}
	sl.admit(s, m, s.m.CheckSend(sl.n.db, sl.n.cfg.Slots, sl.facts, check))
}

func decidePerson(pf factsResult, system bool) proto.ReasonCode {
	return state.DecidePerson(state.PersonFacts(pf), system)
}

// admit stores (or, no_persist, delivers) a send its checks decided:
// refused unless code is ReasonSuccess.
func (sl *slotLoop) admit(s *slot, m slotSend, code proto.ReasonCode) {
	if code != proto.ReasonSuccess && sl.n.clustered() && !m.Confirmed {
		sl.confirmRefusal(m)
		return
	}
	if code != proto.ReasonSuccess {
		// A repeat of a message stored while the rules allowed it is
		// answered with it (asked only here: refusals are rare, and the
		// apply deduplicates every send anyway).
		r := m.Req
		if msg, ok := s.m.StoredSend(sl.n.db, r.Ch, r.Cmd.From, r.Cmd.ClientMsgNo, r.AtMs); ok {
			sl.stats.Duplicates++
			res := sendResult{Reason: proto.ReasonSuccess, MessageID: msg.MessageID, Seq: msg.Seq, Duplicate: true}
			sl.n.answer(m.Reply, sendDone{Reply: m.Reply, Res: res})
			return
		}
		if m.Retry && r.Cmd.ClientMsgNo != "" {
			// An earlier attempt may still be stored: the log decides
			// (state/refuse.go).
			cmd := state.RefuseCommand(r.Ch, &r.Cmd, r.AtMs, code)
			sl.propose(s, &cmd, pendingProposal{reply: m.Reply, send: true})
			return
		}
		sl.n.answer(m.Reply, sendDone{Reply: m.Reply, Res: sendResult{Reason: code}})
		return
	}
	r := m.Req
	id := s.m.NextMessageID(sl.n.db, r.AtMs)
	if r.Cmd.Header.NoPersist {
		sl.sendUnstored(s, m, id)
		return
	}
	// The command and its send in one allocation.
	p := &sendProposal{send: r.Cmd}
	p.send.ID = id
	p.cmd = state.Command{Op: state.OpSend, AtMs: r.AtMs, Ch: r.Ch, Send: &p.send}
	sl.propose(s, &p.cmd, pendingProposal{reply: m.Reply, send: true})
}

// sendProposal is a send's command with its SendCmd.
type sendProposal struct {
	cmd  state.Command
	send state.SendCmd
}

// sendUnstored answers and delivers a no_persist message at once: it is
// neither stored nor deduplicated, and has no seq.
func (sl *slotLoop) sendUnstored(s *slot, m slotSend, id int64) {
	r := m.Req
	msg := &state.Message{
		MessageID: id, ClientMsgNo: r.Cmd.ClientMsgNo, FromUID: r.Cmd.From, Channel: r.Ch,
		Timestamp: int32(r.AtMs / 1000), Header: r.Cmd.Header, Setting: r.Cmd.Setting,
		Expire: r.Cmd.Expire, Topic: r.Cmd.Topic, Payload: r.Cmd.Payload, StreamNo: r.Cmd.StreamNo,
	}
	sl.n.answer(m.Reply, sendDone{Reply: m.Reply, Res: sendResult{Reason: proto.ReasonSuccess, MessageID: id}})
	sl.deliver(msg, s.m.Recipients(sl.n.db, r.Ch), m.Reply.client())
}

// read answers a read of one slot or of all the loop's slots. A slot with
// more than one voter answers after a ReadIndex round (reads.go): its
// leader may have been deposed without knowing it yet.
func (sl *slotLoop) read(m slotRead) {
	if m.Slot == allSlots {
		sl.n.answer(m.Reply, readDone{Reply: m.Reply, Result: sl.readAll(m.Query)})
		return
	}
	s := sl.slots[m.Slot]
	sl.mustServe(s)
	if len(s.conf.GetVoters()) > 1 {
		s.readBatch = append(s.readBatch, m)
		return
	}
	sl.n.answer(m.Reply, readDone{Reply: m.Reply, Result: sl.readSlot(s, m.Query)})
}

func (sl *slotLoop) readSlot(s *slot, q slotQuery) readResult {
	db := sl.n.db
	switch q := q.(type) {
	case queryToken:
		ok, level := s.m.CheckToken(db, q.UID, q.Flag, q.Token)
		return authResult{OK: ok, Level: proto.DeviceLevel(level)}
	case queryBan:
		return banResult(s.m.Channel(db, userChannel(q.UID)).Info.Ban)
	case querySystemUIDs:
		return uidsResult(state.SystemUIDs(db))
	case queryConfirm:
		return confirmResult{}
	case queryList:
		return uidsResult(s.m.ListMembers(db, q.List, q.Ch))
	case querySync:
		msgs, more := s.m.Sync(db, q.Ch, q.Start, q.End, q.Limit, q.Mode)
		return syncResult{Messages: msgs, More: more}
	case queryMaxSeq:
		return seqResult(s.m.MaxSeq(db, q.Ch))
	case queryMessagesAt:
		return messagesResult(s.m.MessagesAt(db, q.Ch, q.Seqs))
	case queryConversations:
		return conversationsResult(s.m.Conversations(db, q.Q))
	case queryPersonFacts:
		return factsResult(state.ReadPersonFacts(sl.facts, sl.n.cfg.Slots, q.Ch, q.From))
	case queryMessage:
		return lookupMessage(s.m, db, q)
	}
	if res, ok := readSyncQuery(s.m, db, q); ok { // requests_sync.go
		return res
	}
	if res, ok := readSubscribersQuery(s.m, db, q); ok { // requests_subscribers.go
		return res
	}
	panic(fmt.Sprintf("node: slot query %T of one slot", q))
}

func (sl *slotLoop) readAll(q slotQuery) readResult {
	switch q.(type) {
	case querySlotStats:
		return sl.loopStats()
	case queryHandOff:
		return sl.handOffAll()
	case querySlotDigests:
		var out digestsResult
		for _, id := range sl.slotIDs {
			s := sl.slots[id]
			out = append(out, SlotDigest{Slot: id, Applied: s.applied, Digest: state.SlotDigest(sl.n.db, id), Leader: sl.isLeader(s)})
		}
		return out
	case querySlotInfo:
		return sl.slotInfo() // requests_clusterinfo.go
	}
	panic(fmt.Sprintf("node: slot query %T of every slot", q))
}
