package linearize

import (
	"fmt"
	"time"
)

// Checks of what reads show beyond the messages: the more flag of a
// history read, and a user's conversation list.
const (
	// WrongMore: a history read's more flag disagrees with whether its
	// limit cut the range, for every tail the log could have had then.
	WrongMore Kind = "wrong more flag"
	// WrongConversation: a conversation's last_msg_seq, unread count or
	// read cursor is impossible given the log and the read cursor's moves
	// (the user's own sends, clear-unread) around the read.
	WrongConversation Kind = "wrong conversation view"
)

// A ConvView is one conversation of a conversation list read.
type ConvView struct {
	Channel                       string
	LastMsgSeq, Unread, ReadToSeq uint64
}

type convRead struct {
	call, ret time.Duration
	uid       string
	views     []ConvView
	clear     string // a clear-unread of this channel (views empty)
}

// SyncMore records the more flag sync id returned (call after SyncOK).
func (r *Recorder) SyncMore(id OpID, more bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rules().more[id] = more
}

// Conversations records a conversation list read of uid, called at call
// and returned at ret.
func (r *Recorder) Conversations(call, ret time.Duration, uid string, views []ConvView) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rules().convs = append(r.rules().convs, convRead{call: call, ret: ret, uid: uid, views: append([]ConvView{}, views...)})
}

// UnreadCleared records that uid's unread count of channel was cleared up
// to the last message (called at call, returned OK at ret).
func (r *Recorder) UnreadCleared(call, ret time.Duration, uid, channel string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rules().convs = append(r.rules().convs, convRead{call: call, ret: ret, uid: uid, clear: channel})
}

// tails bounds a channel's tail at a moment: low is the highest seq
// acknowledged (or cleared up to) before it, high the highest seq of the
// final log whose first send was called before it.
type tails struct {
	acked     map[string][]ackAt         // channel → acks
	firstCall map[string][]time.Duration // channel → seq-1 → first call of its send
}

type ackAt struct {
	at       time.Duration
	seq      uint64
	from     string
	api, own bool
}

func (r *Recorder) tails() tails {
	t := tails{acked: map[string][]ackAt{}, firstCall: map[string][]time.Duration{}}
	first := map[[3]string]time.Duration{}
	for _, o := range r.ops {
		if o.kind != opSend {
			continue
		}
		k := [3]string{o.channel, o.send.FromUID, o.send.ClientMsgNo}
		if c, ok := first[k]; !ok || o.call < c {
			first[k] = o.call
		}
		if o.outcome == OK {
			t.acked[o.channel] = append(t.acked[o.channel], ackAt{at: o.ret, seq: o.msg.Seq, from: o.send.FromUID})
		}
	}
	for ch, log := range r.final {
		calls := make([]time.Duration, len(log))
		for i, m := range log {
			c, ok := first[[3]string{ch, m.FromUID, m.ClientMsgNo}]
			if !ok || m.ClientMsgNo == "" {
				c = 0 // not traceable to one send: it could be anywhere
			}
			calls[i] = c
		}
		t.firstCall[ch] = calls
	}
	return t
}

// low is the highest seq of channel acknowledged before at (by from, if
// from is not "").
func (t tails) low(channel string, at time.Duration, from string) uint64 {
	var lo uint64
	for _, a := range t.acked[channel] {
		if a.at < at && a.seq > lo && (from == "" || a.from == from) {
			lo = a.seq
		}
	}
	return lo
}

// high is the highest seq of channel whose send was called before at.
func (t tails) high(channel string, at time.Duration) uint64 {
	var hi uint64
	for i, c := range t.firstCall[channel] {
		if c < at {
			hi = uint64(i + 1)
		}
	}
	return hi
}

// CheckViews checks the more flags and the conversation reads recorded
// against the final logs. Call it once the final logs are in.
func (r *Recorder) CheckViews() []Violation {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := r.rules()
	t := r.tails()
	var vs []Violation
	for id, more := range h.more {
		o := r.ops[id]
		if o.outcome != OK || r.final[o.channel] == nil {
			continue
		}
		if want, decided := wantMore(o, t); decided && want != more {
			vs = append(vs, Violation{WrongMore, o.channel, 0, fmt.Sprintf(
				"sync %+v (called %v, returned %v) returned %d messages %s with more=%v; want more=%v (the tail was between %d and %d)",
				o.req, o.call, o.ret, len(o.msgs), seqRange(o.msgs), more, want, t.low(o.channel, o.call, ""), t.high(o.channel, o.ret))})
		}
	}
	cleared := map[[2]string][]time.Duration{} // (uid, channel) → clear calls that returned, with their return
	for _, c := range h.convs {
		if c.clear != "" {
			cleared[[2]string{c.uid, c.clear}] = append(cleared[[2]string{c.uid, c.clear}], c.call, c.ret)
		}
	}
	for _, c := range h.convs {
		for _, v := range c.views {
			if r.final[v.Channel] == nil {
				continue
			}
			lo, hi := t.low(v.Channel, c.call, ""), t.high(v.Channel, c.ret)
			readLow := t.low(v.Channel, c.call, c.uid)
			cl := cleared[[2]string{c.uid, v.Channel}]
			for i := 0; i+1 < len(cl); i += 2 {
				if cl[i+1] < c.call {
					readLow = max(readLow, t.low(v.Channel, cl[i], ""))
				}
			}
			unread := uint64(0)
			if v.ReadToSeq < v.LastMsgSeq {
				unread = v.LastMsgSeq - v.ReadToSeq
			}
			var why string
			switch {
			case v.LastMsgSeq < lo || v.LastMsgSeq > hi:
				why = fmt.Sprintf("last_msg_seq %d, but the log's tail was between %d and %d during the read", v.LastMsgSeq, lo, hi)
			case v.Unread != unread:
				why = fmt.Sprintf("unread %d with last_msg_seq %d and the read cursor at %d (want %d)", v.Unread, v.LastMsgSeq, v.ReadToSeq, unread)
			case v.ReadToSeq < readLow:
				why = fmt.Sprintf("read cursor %d, below %d (its own acknowledged send or a clear-unread before the read)", v.ReadToSeq, readLow)
			case v.ReadToSeq > hi:
				why = fmt.Sprintf("read cursor %d beyond the log's tail (at most %d during the read)", v.ReadToSeq, hi)
			}
			if why != "" {
				vs = append(vs, Violation{WrongConversation, v.Channel, 0, fmt.Sprintf(
					"conversation read of %s (called %v, returned %v): %s", c.uid, c.call, c.ret, why)})
			}
		}
	}
	return vs
}

func seqRange(msgs []Message) string {
	if len(msgs) == 0 {
		return "(none)"
	}
	return fmt.Sprintf("%d..%d", msgs[0].Seq, msgs[len(msgs)-1].Seq)
}

// wantMore is the more flag sync o must return: whether its limit cut the
// range it asked for (the node's SyncRange). decided is false when that
// depends on a tail the history cannot pin down.
func wantMore(o op, t tails) (want, decided bool) {
	q := o.req
	n := uint64(len(o.msgs))
	if n == 0 {
		return false, true
	}
	if q.Mode == Down || (q.Start == 0 && q.End == 0) {
		return o.msgs[0].Seq > q.End+1, true
	}
	if q.Limit == 0 || n < q.Limit {
		return false, true
	}
	hi := o.msgs[n-1].Seq
	if q.End != 0 && hi >= q.End-1 {
		return false, true
	}
	switch {
	case t.low(o.channel, o.call, "") > hi:
		return true, true
	case t.high(o.channel, o.ret) <= hi:
		return false, true
	}
	return false, false
}
