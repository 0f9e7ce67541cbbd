package linearize

import (
	"fmt"
	"slices"
)

// The checks of what clients saw against what was sent and stored: every
// message a RECV, a sync answer or a log read after a restart shows is the
// one the final log holds at its seq, with the sender, client_msg_no and
// payload it was sent with, sent by a send that was not refused; and sync
// answers come in increasing seq.

const (
	// NotStored: a RECV, a sync answer or a log read after a restart holds
	// a message at a seq where the final log holds nothing.
	NotStored Kind = "seen but not stored"
	// WrongContent: a message seen with its stored id at its seq but
	// another sender, client_msg_no or payload than stored or sent.
	WrongContent Kind = "wrong message content"
	// SyncOutOfOrder: a sync answer not in increasing seq order.
	SyncOutOfOrder Kind = "sync answer out of order"
)

// sighting is one message as one place showed it.
type sighting struct {
	ch  string
	msg Message
	w   witness
}

// sightings lists every message seen outside the final log, in a fixed
// order: sync answers and acks by op, RECVs, logs read after restarts.
func (h *history) sightings() []sighting {
	var out []sighting
	for i, o := range h.ops {
		if o.kind == opSync && o.outcome == OK {
			for _, m := range o.msgs {
				out = append(out, sighting{o.channel, m, witness{witnessSync, i}})
			}
		}
	}
	for i, p := range h.pushes {
		out = append(out, sighting{p.channel, p.msg, witness{witnessPush, i}})
	}
	for i, rs := range h.restarts {
		for _, l := range rs.logs {
			for _, m := range l.Messages {
				out = append(out, sighting{l.Channel, m, witness{witnessRestart, i}})
			}
		}
	}
	return out
}

// sentPayloads maps each (channel, sender, client_msg_no) to the payload
// its sends carried, when the recorder was given one.
func (h *history) sentPayloads() map[sendKey]string {
	out := map[sendKey]string{}
	for _, o := range h.ops {
		if o.kind == opSend && o.send.Payload != "" {
			out[sendKey{o.channel, msgKey{o.send.FromUID, o.send.ClientMsgNo}}] = o.send.Payload
		}
	}
	return out
}

type sendKey struct {
	ch string
	k  msgKey
}

// checkSeenWereStored: every message seen outside the final log is in it
// at its seq (another id there is checkOneMessagePerSeq's), with the
// sender and client_msg_no stored; and every payload seen, stored or sent
// for one message is the same. Channels without a final log are left out
// (Check reports them).
func checkSeenWereStored(h *history) []Violation {
	sent := h.sentPayloads()
	var vs []Violation
	content := func(ch string, m, stored Message, where string) {
		switch {
		case m.FromUID != stored.FromUID || m.ClientMsgNo != stored.ClientMsgNo:
			vs = append(vs, Violation{WrongContent, ch, m.Seq, fmt.Sprintf(
				"%s shows id %d from %s client_msg_no %q, but the final log holds it from %s client_msg_no %q",
				where, m.MessageID, m.FromUID, m.ClientMsgNo, stored.FromUID, stored.ClientMsgNo)})
		case m.Payload != "" && stored.Payload != "" && m.Payload != stored.Payload:
			vs = append(vs, Violation{WrongContent, ch, m.Seq, fmt.Sprintf(
				"%s shows id %d with payload %q, but the final log holds %q", where, m.MessageID, m.Payload, stored.Payload)})
		}
		if p, ok := sent[sendKey{ch, msgKey{m.FromUID, m.ClientMsgNo}}]; ok && m.Payload != "" && m.Payload != p {
			vs = append(vs, Violation{WrongContent, ch, m.Seq, fmt.Sprintf(
				"%s shows id %d from %s client_msg_no %q with payload %q, but it was sent with %q",
				where, m.MessageID, m.FromUID, m.ClientMsgNo, m.Payload, p)})
		}
	}
	for _, ch := range h.channels {
		for _, m := range sortedBySeq(h.final[ch]) {
			content(ch, m, m, "the final log")
		}
	}
	for _, s := range h.sightings() {
		ref := h.refs[s.ch]
		if ref == nil {
			continue
		}
		stored, ok := ref.at(s.msg.Seq)
		switch {
		case !ok:
			vs = append(vs, Violation{NotStored, s.ch, s.msg.Seq, fmt.Sprintf(
				"%s shows id %d from %s client_msg_no %q at seq %d, which the final log lacks",
				h.witness(s.w), s.msg.MessageID, s.msg.FromUID, s.msg.ClientMsgNo, s.msg.Seq)})
		case stored.MessageID == s.msg.MessageID:
			content(s.ch, s.msg, stored, h.witness(s.w))
		}
	}
	return vs
}

// checkSyncOrder: a sync answer lists its messages in increasing seq (the
// model checks the set, sorted).
func checkSyncOrder(h *history) []Violation {
	var vs []Violation
	for i, o := range h.ops {
		if o.kind != opSync || o.outcome != OK {
			continue
		}
		for j := 1; j < len(o.msgs); j++ {
			if o.msgs[j].Seq <= o.msgs[j-1].Seq {
				vs = append(vs, Violation{SyncOutOfOrder, o.channel, o.msgs[j].Seq, fmt.Sprintf(
					"%s answered seq %d after seq %d: seqs %v", h.describe(OpID(i)), o.msgs[j].Seq, o.msgs[j-1].Seq, seqsOf(o.msgs))})
				break
			}
		}
	}
	return vs
}

func seqsOf(msgs []Message) []uint64 {
	out := make([]uint64, len(msgs))
	for i, m := range msgs {
		out[i] = m.Seq
	}
	return out
}

// checkSeenWereSent: every message a log, a RECV or a sync answer shows
// was sent by a recorded send that was acknowledged or whose outcome is
// unknown; none only by sends that were refused. Each (channel, sender,
// client_msg_no) is reported once, where it was first seen: the final
// log, then the other places in sightings' order.
func checkSeenWereSent(h *history) []Violation {
	type sends struct {
		tookEffect bool // an acked or unknown send
		failed     []OpID
	}
	all := map[sendKey]*sends{}
	for i, o := range h.ops {
		if o.kind != opSend {
			continue
		}
		k := sendKey{o.channel, msgKey{o.send.FromUID, o.send.ClientMsgNo}}
		s := all[k]
		if s == nil {
			s = &sends{}
			all[k] = s
		}
		if o.outcome == Failed {
			s.failed = append(s.failed, OpID(i))
		} else {
			s.tookEffect = true
		}
	}
	var seen []sighting
	for _, ch := range h.channels {
		for _, m := range sortedBySeq(h.final[ch]) {
			seen = append(seen, sighting{ch, m, witness{witnessFinal, 0}})
		}
	}
	seen = append(seen, h.sightings()...)
	reported := map[sendKey]bool{}
	var vs []Violation
	for _, s := range seen {
		k := sendKey{s.ch, msgKey{s.msg.FromUID, s.msg.ClientMsgNo}}
		sn := all[k]
		if reported[k] || (sn != nil && sn.tookEffect) {
			continue
		}
		reported[k] = true
		where := h.witness(s.w)
		if s.w.src == witnessFinal {
			where = "the final log"
		}
		if sn == nil {
			vs = append(vs, Violation{Phantom, s.ch, s.msg.Seq, fmt.Sprintf(
				"%s holds id %d from %s client_msg_no %q, which no recorded send sent", where, s.msg.MessageID, s.msg.FromUID, s.msg.ClientMsgNo)})
			continue
		}
		vs = append(vs, Violation{FailedButStored, s.ch, s.msg.Seq, fmt.Sprintf(
			"%s holds id %d, sent only by %s", where, s.msg.MessageID, h.describe(slices.Min(sn.failed)))})
	}
	return vs
}
