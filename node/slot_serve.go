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
func (sl *slotLoop) send(m slotSend) {
	s := sl.slots[m.Slot]
	sl.mustServe(s)
	r := m.Req
	check := state.SendCheck{Ch: r.Ch, From: r.Cmd.From, System: r.System || sl.system[r.Cmd.From]}
	if code := s.m.CheckSend(sl.n.db, sl.n.cfg.Slots, sl.facts, check); code != proto.ReasonSuccess {
		sl.n.answer(m.Reply, sendDone{Reply: m.Reply, Res: sendResult{Reason: code}})
		return
	}
	id := s.m.NextMessageID(sl.n.db, r.AtMs)
	if r.Cmd.Header.NoPersist {
		sl.sendUnstored(s, m, id)
		return
	}
	send := r.Cmd
	send.ID = id
	cmd := &state.Command{Op: state.OpSend, AtMs: r.AtMs, Ch: r.Ch, Send: &send}
	sl.propose(s, cmd, pendingProposal{reply: m.Reply, send: true})
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
	sl.n.deliver(msg, s.m.Recipients(sl.n.db, r.Ch), m.Reply.client())
}

// read answers a read of one slot or of all the loop's slots.
func (sl *slotLoop) read(m slotRead) {
	var res readResult
	if m.Slot == allSlots {
		res = sl.readAll(m.Query)
	} else {
		s := sl.slots[m.Slot]
		sl.mustServe(s)
		res = sl.readSlot(s, m.Query)
	}
	sl.n.answer(m.Reply, readDone{Reply: m.Reply, Result: res})
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
	case queryList:
		return uidsResult(s.m.ListMembers(db, q.List, q.Ch))
	case querySync:
		msgs, more := s.m.Sync(db, q.Ch, q.Start, q.End, q.Limit, q.Mode)
		return syncResult{Messages: msgs, More: more}
	case queryMaxSeq:
		return seqResult(s.m.MaxSeq(db, q.Ch))
	case queryMessagesAt:
		return messagesResult(s.m.MessagesAt(db, q.Ch, q.Seqs))
	case queryMessage:
		return lookupMessage(s.m, db, q)
	}
	panic(fmt.Sprintf("node: slot query %T of one slot", q))
}

func (sl *slotLoop) readAll(q slotQuery) readResult {
	switch q := q.(type) {
	case queryConversations:
		var out conversationsResult
		for _, id := range sl.slotIDs {
			out = append(out, sl.slots[id].m.Conversations(sl.n.db, q.Q)...)
		}
		return out
	case querySlotStats:
		return sl.loopStats()
	}
	panic(fmt.Sprintf("node: slot query %T of every slot", q))
}
