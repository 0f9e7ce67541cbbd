package linearize

import (
	"math"
	"slices"
	"time"

	"github.com/anishathalye/porcupine"
)

// history is a Recorder's content frozen for checking.
type history struct {
	ops      []op // an op still pending is Unknown here, returning at Forever
	pushes   []push
	restarts []restart
	final    map[string][]Message
	subs     []Subscription

	channels []string              // sorted: every channel anything mentions
	refs     map[string]*reference // channels with a final log

	// stored[id] is where send id's message sits in the final log if its
	// outcome is Unknown and it took effect (resolved present).
	stored map[OpID]Message
}

func (r *Recorder) snapshot() *history {
	h := &history{
		ops:      slices.Clone(r.ops),
		pushes:   slices.Clone(r.pushes),
		restarts: slices.Clone(r.restarts),
		final:    map[string][]Message{},
		subs:     slices.Clone(r.subs),
		refs:     map[string]*reference{},
		stored:   map[OpID]Message{},
	}
	for i := range h.ops {
		if h.ops[i].outcome == Pending {
			h.ops[i].outcome, h.ops[i].ret = Unknown, Forever
		}
	}
	seen := map[string]bool{}
	add := func(ch string) {
		if !seen[ch] {
			seen[ch] = true
			h.channels = append(h.channels, ch)
		}
	}
	for _, o := range h.ops {
		add(o.channel)
	}
	for _, p := range h.pushes {
		add(p.channel)
	}
	for _, s := range h.subs {
		add(s.Channel)
	}
	for ch, log := range r.final {
		h.final[ch] = log
		add(ch)
	}
	slices.Sort(h.channels)
	for _, ch := range h.channels {
		if log, ok := h.final[ch]; ok {
			h.refs[ch] = newReference(ch, log)
		}
	}
	return h
}

// resolve turns the history into porcupine operations, channel by channel
// in sorted order, and counts what it did in rep.
//
//   - An acknowledged send is an append whose output is the acked seq and id.
//   - A send with an Unknown outcome is looked up in the final log by
//     (from uid, client_msg_no): present, it is an append of the stored seq
//     and id that may have happened any time after its call (its return is
//     open-ended); absent, it never happened and is dropped. So is a failed
//     send.
//   - A send is marked dup when another acked or stored send of the channel
//     has the same (from uid, client_msg_no): exactly one of the group
//     appends, the others are answered with the original and are reads.
//   - Syncs and max-seq reads are kept when OK and dropped otherwise: a
//     read that failed or whose answer was lost tells nothing.
//
// It returns one list per channel with operations, in channel order.
// Channels without a final log are left out (Check reports them).
func (h *history) resolve(rep *Report) [][]porcupine.Operation {
	byChannel := map[string][]OpID{}
	for i, o := range h.ops {
		byChannel[o.channel] = append(byChannel[o.channel], OpID(i))
	}
	var all [][]porcupine.Operation
	for _, ch := range h.channels {
		ref := h.refs[ch]
		if ref == nil {
			continue
		}
		var out []porcupine.Operation
		ids := byChannel[ch]
		// Unknown sends: resolve them, and count each (from uid,
		// client_msg_no) among the sends that took effect.
		takes := map[msgKey]int{}
		for _, id := range ids {
			o := &h.ops[id]
			if o.kind != opSend {
				continue
			}
			k := msgKey{o.send.FromUID, o.send.ClientMsgNo}
			switch o.outcome {
			case OK:
				takes[k]++
			case Unknown:
				if m, ok := ref.byKey[k]; ok && k.cmn != "" {
					h.stored[id] = m
					takes[k]++
				}
			}
		}
		for _, id := range ids {
			o := &h.ops[id]
			in := &input{op: id, kind: o.kind, ref: ref}
			pop := porcupine.Operation{
				ClientId: o.row, Input: in, Call: int64(o.call), Return: int64(o.ret),
				Metadata: opRef{h, id},
			}
			switch o.kind {
			case opSend:
				in.dup = takes[msgKey{o.send.FromUID, o.send.ClientMsgNo}] > 1
				switch o.outcome {
				case OK:
					pop.Output = &output{msg: o.msg}
				case Failed:
					continue
				case Unknown:
					m, ok := h.stored[id]
					if !ok {
						rep.UnknownAbsent++
						continue
					}
					rep.UnknownPresent++
					pop.Output = &output{msg: m}
					pop.Return = math.MaxInt64
				}
			case opSync, opMaxSeq:
				if o.outcome != OK {
					continue
				}
				if o.kind == opMaxSeq {
					pop.Output = &output{tail: o.tail}
					break
				}
				msgs := sortedBySeq(o.msgs)
				pop.Output = &output{msgs: msgs}
				in.req = o.req
				in.shapeOK = true
				if len(msgs) > 0 {
					in.first, in.count = msgs[0].Seq, uint64(len(msgs))
				}
				for i, m := range msgs {
					stored, ok := ref.at(m.Seq)
					if m.Seq != in.first+uint64(i) || !ok || stored.MessageID != m.MessageID {
						in.shapeOK = false
					}
				}
			}
			out = append(out, pop)
		}
		if len(out) > 0 {
			all = append(all, out)
		}
	}
	return all
}

// sortedBySeq returns a copy of msgs sorted by seq, stable.
func sortedBySeq(msgs []Message) []Message {
	s := slices.Clone(msgs)
	slices.SortStableFunc(s, func(a, b Message) int {
		switch {
		case a.Seq < b.Seq:
			return -1
		case a.Seq > b.Seq:
			return 1
		}
		return 0
	})
	return s
}

// fmtTime renders a virtual time, Forever as "∞".
func fmtTime(d time.Duration) string {
	if d == Forever {
		return "∞"
	}
	return d.String()
}
