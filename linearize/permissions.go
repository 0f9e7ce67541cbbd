package linearize

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// The checks of the permission model (rules.go) and of kicks.
const (
	// WrongRefusal: a send of a modelled channel was answered (accepted,
	// or refused for a reason) as no state of the rules during it allowed.
	WrongRefusal Kind = "send answered against the rules"
	// NotASubscriber: a connection got a RECV of a modelled channel whose
	// user subscribed to it at no moment from the send on.
	NotASubscriber Kind = "delivered to a non-subscriber"
	// AfterKick: a connection got a RECV after its DISCONNECT.
	AfterKick Kind = "delivered after a kick"
)

// Stopping is the reason of a send refused because its node was stopping
// gracefully: not stored (the history check holds it to that), and no
// answer of the rules, so the permission check passes it by.
const Stopping = "node stopping"

// CheckRules checks the history against the permission model and the
// kicks: every send of a modelled channel answered as some state of the
// rules during it allowed (a stored send of unknown outcome as some state
// after its call allowed; an accepted or stored retry as some state from
// its client_msg_no's first call on); every RECV of a modelled channel on a
// connection whose user was possibly a subscriber at some moment between
// the send's first call and the RECV (or who sent it); no RECV on a
// connection after its DISCONNECT. Call it once the final logs are in.
func (r *Recorder) CheckRules() []Violation {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := r.rules()
	var vs []Violation
	firstCall := map[[3]string]time.Duration{}
	for i := range r.ops {
		o := &r.ops[i]
		if o.kind != opSend {
			continue
		}
		k := [3]string{o.channel, o.send.FromUID, o.send.ClientMsgNo}
		if t, ok := firstCall[k]; !ok || o.call < t {
			firstCall[k] = o.call
		}
	}
	for i := range r.ops {
		o := &r.ops[i]
		if o.kind != opSend {
			continue
		}
		model := h.model(o.channel)
		initial, modelled := h.initial[model]
		if !modelled {
			continue
		}
		// An accepted or stored send may be a retry answered from the
		// dedupe window: any attempt of its client_msg_no, from the first
		// one's call on, may have been the one the rules let through.
		call, ret, got := firstCall[[3]string{o.channel, o.send.FromUID, o.send.ClientMsgNo}], o.ret, ""
		switch o.outcome {
		case OK:
			got = Allowed
		case Failed:
			if o.reason == Stopping {
				continue
			}
			call, got = o.call, o.reason
		default:
			if !r.storedKey(o.channel, o.send.FromUID, o.send.ClientMsgNo) {
				continue
			}
			ret, got = Forever, Allowed
		}
		if o.send.ClientMsgNo == "" {
			call = o.call // no retries: each send is its own
		}
		possible := map[string]bool{}
		if !h.states(initial, model, call, ret, func(s *ruleSet, system map[string]bool) {
			possible[s.decide(o.send.FromUID, system[o.send.FromUID])] = true
		}) {
			continue
		}
		if !possible[got] {
			vs = append(vs, Violation{WrongRefusal, o.channel, o.msg.Seq, fmt.Sprintf(
				"%s answered %q; the rules during it allowed only %s (changes: %s)", r.describeOp(OpID(i)), got,
				strings.Join(sortedKeys(possible), " or "), h.changesAround(model, call, ret))})
		}
	}
	for _, p := range r.pushes {
		initial, modelled := h.initial[p.channel]
		uid, known := h.connUID[p.conn]
		if !modelled || !known || uid == p.msg.FromUID {
			continue
		}
		from, ok := firstCall[[3]string{p.channel, p.msg.FromUID, p.msg.ClientMsgNo}]
		if !ok {
			continue
		}
		subscribed := false
		if !h.states(initial, p.channel, from, p.at, func(s *ruleSet, _ map[string]bool) { subscribed = subscribed || s.subs[uid] }) {
			continue
		}
		if !subscribed {
			vs = append(vs, Violation{NotASubscriber, p.channel, p.msg.Seq, fmt.Sprintf(
				"connection %s of %s got id %d (from %s, client_msg_no %q, sent at %v) at %v; %s subscribed at no moment in between (changes: %s)",
				p.conn, uid, p.msg.MessageID, p.msg.FromUID, p.msg.ClientMsgNo, from, p.at, uid, h.changesAround(p.channel, from, p.at))})
		}
	}
	for _, k := range h.kicks {
		for _, p := range r.pushes[k.pushes:] {
			if p.conn == k.conn {
				vs = append(vs, Violation{AfterKick, p.channel, p.msg.Seq, fmt.Sprintf(
					"connection %s got DISCONNECT (%s) at %v, then a RECV of id %d at %v", k.conn, k.reason, k.at, p.msg.MessageID, p.at)})
				break
			}
		}
	}
	return vs
}

// storedKey: the final log of channel holds (from, cmn).
func (r *Recorder) storedKey(channel, from, cmn string) bool {
	for _, m := range r.final[channel] {
		if m.FromUID == from && m.ClientMsgNo == cmn {
			return true
		}
	}
	return false
}

func (r *Recorder) describeOp(id OpID) string {
	o := r.ops[id]
	ret := "never returned"
	if o.outcome != Pending && o.ret != Forever {
		ret = fmt.Sprintf("returned %v", o.ret)
	}
	return fmt.Sprintf("send by %s (client_msg_no %q, called %v, %s, %s)", o.send.FromUID, o.send.ClientMsgNo, o.call, ret, o.outcome)
}

// changesAround lists the changes of channel (and the system uids) called
// up to to, with their times.
func (h *rulesState) changesAround(channel string, from, to time.Duration) string {
	var parts []string
	for _, c := range h.changes {
		if (c.Channel == channel || c.Channel == "") && c.call <= to {
			ret := "unknown"
			if c.ret != Forever {
				ret = c.ret.String()
			}
			parts = append(parts, fmt.Sprintf("%s [%v, %s]", c.RuleChange, c.call, ret))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	if len(parts) > 6 {
		parts = append([]string{"…"}, parts[len(parts)-6:]...)
	}
	return strings.Join(parts, "; ")
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
