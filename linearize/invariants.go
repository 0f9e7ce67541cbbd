package linearize

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The invariants: each is one pass over the history (plus sorting), and
// each reports in words. They complement the porcupine check, which says
// that a channel is not linearizable but not why.

// checkLogs checks a stored log (the final one, or one read after a
// restart): seqs 1..N without gaps, no (from uid, client_msg_no) and no
// message id at two seqs. Two ids at one seq are checkOneMessagePerSeq's.
func checkLogs(h *history) []Violation {
	var vs []Violation
	for _, ch := range h.channels {
		if log, ok := h.final[ch]; ok {
			vs = append(vs, checkLog(ch, "the final log", log)...)
		}
	}
	for _, rs := range h.restarts {
		for _, l := range rs.logs {
			where := fmt.Sprintf("the log read after node %s restarted at %s", rs.node, fmtTime(rs.at))
			vs = append(vs, checkLog(l.Channel, where, l.Messages)...)
		}
	}
	return vs
}

func checkLog(ch, where string, log []Message) []Violation {
	var vs []Violation
	sorted := sortedBySeq(log)
	next := uint64(1) // the seq expected next
	for _, m := range sorted {
		switch {
		case m.Seq > next:
			gap := fmt.Sprintf("seq %d", next)
			if m.Seq > next+1 {
				gap = fmt.Sprintf("seqs %d..%d", next, m.Seq-1)
			}
			vs = append(vs, Violation{Gap, ch, next, fmt.Sprintf("%s lacks %s: it jumps from %d to %d", where, gap, next-1, m.Seq)})
		case m.Seq < next && m.Seq != 0:
			continue // listed twice: checkOneMessagePerSeq, or below
		case m.Seq == 0:
			vs = append(vs, Violation{Gap, ch, 0, fmt.Sprintf("%s holds message id %d at seq 0", where, m.MessageID)})
			continue
		}
		next = m.Seq + 1
	}
	byKey := map[msgKey]Message{}
	byID := map[int64]Message{}
	for _, m := range sorted {
		if m.ClientMsgNo != "" {
			k := msgKey{m.FromUID, m.ClientMsgNo}
			if first, ok := byKey[k]; ok {
				vs = append(vs, Violation{DuplicateStored, ch, m.Seq, fmt.Sprintf(
					"%s holds client_msg_no %q of %s at seq %d (id %d) and again at seq %d (id %d)",
					where, m.ClientMsgNo, m.FromUID, first.Seq, first.MessageID, m.Seq, m.MessageID)})
			} else {
				byKey[k] = m
			}
		}
		if first, ok := byID[m.MessageID]; ok {
			vs = append(vs, Violation{DuplicateStored, ch, m.Seq, fmt.Sprintf(
				"%s holds message id %d at seq %d and again at seq %d", where, m.MessageID, first.Seq, m.Seq)})
		} else {
			byID[m.MessageID] = m
		}
	}
	return vs
}

// A witness is where a (seq, message id) was seen.
type witness struct {
	src   uint8 // witnessAck, witnessSync, witnessPush, witnessFinal, witnessRestart
	index int   // op id, push index or restart index
}

const (
	witnessAck uint8 = iota
	witnessSync
	witnessPush
	witnessFinal
	witnessRestart
)

func (h *history) witness(w witness) string {
	switch w.src {
	case witnessAck:
		return "the ack of " + h.describe(OpID(w.index))
	case witnessSync:
		return "the answer to " + h.describe(OpID(w.index))
	case witnessPush:
		p := h.pushes[w.index]
		return fmt.Sprintf("a RECV on connection %s at %s", p.conn, fmtTime(p.at))
	case witnessFinal:
		return "the final log"
	}
	rs := h.restarts[w.index]
	return fmt.Sprintf("the log read after node %s restarted at %s", rs.node, fmtTime(rs.at))
}

// checkOneMessagePerSeq: everything observed agrees on which message is at
// each (channel, seq), and at which seq each message is: acks, sync
// answers, pushes, the final log and the logs read after restarts.
func checkOneMessagePerSeq(h *history) []Violation {
	type at struct {
		ch  string
		seq uint64
	}
	type seen struct {
		ids []int64   // distinct ids, in order of first sight
		by  []witness // by[i] first saw ids[i]
	}
	type where struct {
		at []at      // distinct places, in order of first sight
		by []witness // by[i] first saw at[i]
	}
	obs := map[at]*seen{}
	pos := map[int64]*where{}
	note := func(ch string, seq uint64, id int64, w witness) {
		k := at{ch, seq}
		if p := pos[id]; p == nil {
			pos[id] = &where{at: []at{k}, by: []witness{w}}
		} else if !slices.Contains(p.at, k) {
			p.at = append(p.at, k)
			p.by = append(p.by, w)
		}
		s := obs[k]
		if s == nil {
			obs[k] = &seen{ids: []int64{id}, by: []witness{w}}
			return
		}
		if !slices.Contains(s.ids, id) {
			s.ids = append(s.ids, id)
			s.by = append(s.by, w)
		}
	}
	for i, o := range h.ops {
		if o.outcome != OK {
			continue
		}
		switch o.kind {
		case opSend:
			note(o.channel, o.msg.Seq, o.msg.MessageID, witness{witnessAck, i})
		case opSync:
			for _, m := range o.msgs {
				note(o.channel, m.Seq, m.MessageID, witness{witnessSync, i})
			}
		}
	}
	for i, p := range h.pushes {
		note(p.channel, p.msg.Seq, p.msg.MessageID, witness{witnessPush, i})
	}
	for _, ch := range h.channels {
		for _, m := range h.final[ch] {
			note(ch, m.Seq, m.MessageID, witness{witnessFinal, 0})
		}
	}
	for i, rs := range h.restarts {
		for _, l := range rs.logs {
			for _, m := range l.Messages {
				note(l.Channel, m.Seq, m.MessageID, witness{witnessRestart, i})
			}
		}
	}
	var bad []at
	for k, s := range obs {
		if len(s.ids) > 1 {
			bad = append(bad, k)
		}
	}
	slices.SortFunc(bad, func(a, b at) int {
		return cmp.Or(strings.Compare(a.ch, b.ch), cmp.Compare(a.seq, b.seq))
	})
	var vs []Violation
	for _, k := range bad {
		s := obs[k]
		parts := make([]string, len(s.ids))
		for i := range s.ids {
			parts[i] = fmt.Sprintf("id %d in %s", s.ids[i], h.witness(s.by[i]))
		}
		vs = append(vs, Violation{TwoMessagesAtSeq, k.ch, k.seq, strings.Join(parts, "; but ")})
	}
	var moved []int64
	for id, p := range pos {
		if len(p.at) > 1 {
			moved = append(moved, id)
		}
	}
	slices.Sort(moved)
	for _, id := range moved {
		p := pos[id]
		parts := make([]string, len(p.at))
		for i, k := range p.at {
			parts[i] = fmt.Sprintf("at seq %d of %s in %s", k.seq, k.ch, h.witness(p.by[i]))
		}
		vs = append(vs, Violation{MessageAtTwoSeqs, p.at[1].ch, p.at[1].seq, fmt.Sprintf("message id %d is %s", id, strings.Join(parts, "; but "))})
	}
	return vs
}

// checkAcknowledged: every acknowledged send is at its seq with its id,
// sender and client_msg_no in the final log, and in every log read after a restart that came after the
// ack.
func checkAcknowledged(h *history) []Violation {
	var vs []Violation
	lost := func(id OpID, where string, log *reference) {
		o := &h.ops[id]
		got := "nothing"
		if m, ok := log.at(o.msg.Seq); ok {
			if m.MessageID == o.msg.MessageID && m.FromUID == o.send.FromUID && m.ClientMsgNo == o.send.ClientMsgNo {
				return
			}
			got = fmt.Sprintf("id %d (from %s client_msg_no %q)", m.MessageID, m.FromUID, m.ClientMsgNo)
		}
		if m, ok := log.byKey[msgKey{o.send.FromUID, o.send.ClientMsgNo}]; ok && m.Seq != o.msg.Seq {
			got += fmt.Sprintf("; its client_msg_no %q is stored at seq %d (id %d)", m.ClientMsgNo, m.Seq, m.MessageID)
		}
		vs = append(vs, Violation{LostAcknowledged, o.channel, o.msg.Seq, fmt.Sprintf(
			"%s: expected id %d at seq %d in %s, found %s", h.describe(id), o.msg.MessageID, o.msg.Seq, where, got)})
	}
	for i, o := range h.ops {
		if o.kind != opSend || o.outcome != OK {
			continue
		}
		if ref := h.refs[o.channel]; ref != nil {
			lost(OpID(i), "the final log", ref)
		}
	}
	for _, rs := range h.restarts {
		where := fmt.Sprintf("the log read after node %s restarted at %s", rs.node, fmtTime(rs.at))
		logs := map[string]*reference{}
		for _, l := range rs.logs {
			logs[l.Channel] = newReference(l.Channel, l.Messages)
		}
		for i, o := range h.ops {
			if log := logs[o.channel]; log != nil && o.kind == opSend && o.outcome == OK && o.ret <= rs.at {
				lost(OpID(i), where, log)
			}
		}
	}
	return vs
}

// checkPushOrder: per connection and channel, RECVs come in strictly
// increasing seq, except that a RECV already received (same seq and id) may
// come again (a resend).
func checkPushOrder(h *history) []Violation {
	type stream struct {
		conn, ch string
	}
	byStream := map[stream][]int{}
	var streams []stream
	for i, p := range h.pushes {
		s := stream{p.conn, p.channel}
		if _, ok := byStream[s]; !ok {
			streams = append(streams, s)
		}
		byStream[s] = append(byStream[s], i)
	}
	slices.SortFunc(streams, func(a, b stream) int {
		return cmp.Or(strings.Compare(a.ch, b.ch), strings.Compare(a.conn, b.conn))
	})
	var vs []Violation
	for _, s := range streams {
		idx := byStream[s]
		slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(h.pushes[a].at, h.pushes[b].at) })
		got := map[Message]bool{}
		last := -1 // the push with the highest seq so far
		for _, i := range idx {
			p := h.pushes[i]
			key := Message{Seq: p.msg.Seq, MessageID: p.msg.MessageID}
			switch {
			case last < 0 || p.msg.Seq > h.pushes[last].msg.Seq:
				last = i
			case got[key]:
				// a resend of a RECV this connection already got
			default:
				l := h.pushes[last]
				vs = append(vs, Violation{PushOutOfOrder, s.ch, p.msg.Seq, fmt.Sprintf(
					"connection %s got seq %d id %d at %s after seq %d id %d at %s, and not as a resend",
					s.conn, p.msg.Seq, p.msg.MessageID, fmtTime(p.at), l.msg.Seq, l.msg.MessageID, fmtTime(l.at))})
			}
			got[key] = true
		}
	}
	return vs
}

// checkDelivery: a message acknowledged while a connection was subscribed
// to its channel — from before the send's call until bound after its ack —
// reaches that connection (the sending one excepted) by then.
func checkDelivery(h *history, bound time.Duration) []Violation {
	type recv struct {
		conn, ch string
		id       int64
	}
	first := map[recv]time.Duration{}
	for _, p := range h.pushes {
		k := recv{p.conn, p.channel, p.msg.MessageID}
		if t, ok := first[k]; !ok || p.at < t {
			first[k] = p.at
		}
	}
	subs := map[string][]Subscription{}
	for _, s := range h.subs {
		subs[s.Channel] = append(subs[s.Channel], s)
	}
	// A message may have been stored, and pushed, by the first attempt of
	// its (from uid, client_msg_no); a later attempt answered from the
	// dedupe window pushes nothing. So a connection owes the message only
	// if it was online from the first attempt's call on, and the sending
	// connections of every attempt owe nothing.
	type sendKey struct{ ch, from, cmn string }
	firstCall := map[sendKey]time.Duration{}
	senders := map[sendKey][]string{}
	for _, o := range h.ops {
		if o.kind != opSend {
			continue
		}
		k := sendKey{o.channel, o.send.FromUID, o.send.ClientMsgNo}
		if t, ok := firstCall[k]; !ok || o.call < t {
			firstCall[k] = o.call
		}
		senders[k] = append(senders[k], o.send.Conn)
	}
	var vs []Violation
	for i, o := range h.ops {
		if o.kind != opSend || o.outcome != OK {
			continue
		}
		deadline := o.ret + bound
		if deadline < o.ret { // overflow
			deadline = Forever
		}
		k := sendKey{o.channel, o.send.FromUID, o.send.ClientMsgNo}
		for _, s := range subs[o.channel] {
			if slices.Contains(senders[k], s.Conn) || s.From > firstCall[k] || s.To < deadline {
				continue
			}
			t, ok := first[recv{s.Conn, o.channel, o.msg.MessageID}]
			if ok && t <= deadline {
				continue
			}
			got := "never got it"
			if ok {
				got = "got it only at " + fmtTime(t)
			}
			vs = append(vs, Violation{NotDelivered, o.channel, o.msg.Seq, fmt.Sprintf(
				"%s: connection %s, subscribed during [%s, %s), %s; due by %s (bound %v after the ack)",
				h.describe(OpID(i)), s.Conn, fmtTime(s.From), fmtTime(s.To), got, fmtTime(deadline), bound)})
		}
	}
	return vs
}
