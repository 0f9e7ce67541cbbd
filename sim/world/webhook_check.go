package world

import (
	"fmt"

	"github.com/jindou-im/jindou/chaos"
	"github.com/jindou-im/jindou/node"
)

// scheduleOutage interprets a plan's receiver entry: the receiver is in
// the entry's mode for its span, then up again. Overlapping outages end
// at the last one's end.
func (w *World) scheduleOutage(f chaos.Receiver, c *chaos.Counter) {
	r := w.receiver
	if r == nil {
		panic(fmt.Sprintf("world: plan entry %q in a world without a receiver", f))
	}
	mode, err := ParseReceiverMode(f.Mode)
	if err != nil {
		panic(err)
	}
	w.Sim.At(f.At, "receiver-outage", func() {
		r.Mode = mode
		r.outageEnds = max(r.outageEnds, f.At+f.For)
		c.Fire(f.Class())
	})
	w.Sim.At(f.At+f.For, "receiver-up", func() {
		if w.Now() >= r.outageEnds {
			r.Mode = ReceiverUp
		}
	})
}

// WebhookCheck is what the receiver's record says against the stored
// logs.
type WebhookCheck struct {
	// Failures are violations: a message out of seq order in its
	// channel, or one that is not what is stored at its seq.
	Failures []string
	// Missing counts stored messages the receiver never got;
	// Duplicates the messages it got more than once.
	Missing, Duplicates int
}

// CheckNotified judges the receiver's msg.notify record against stored,
// each channel's full log: every message it got must be the stored one at
// its seq, and arrive only after every earlier seq of its channel had
// (in seq order per channel, duplicates allowed); Missing counts what of
// stored it never got. Channels absent from stored are checked for order
// only.
func (r *Receiver) CheckNotified(stored map[node.ChannelKey][]*node.Message) WebhookCheck {
	var out WebhookCheck
	have := map[node.ChannelKey]uint64{} // the highest seq received with all below it
	for _, m := range r.Notified {
		h := have[m.Channel]
		switch {
		case m.Seq <= h:
			out.Duplicates++
		case m.Seq == h+1:
			have[m.Channel] = m.Seq
		default:
			out.Failures = append(out.Failures, fmt.Sprintf("webhook: %s seq %d (id %d) arrived at %v before seq %d", m.Channel, m.Seq, m.MessageID, m.At, h+1))
			continue
		}
		log, known := stored[m.Channel]
		if !known {
			continue
		}
		if m.Seq == 0 || m.Seq > uint64(len(log)) {
			out.Failures = append(out.Failures, fmt.Sprintf("webhook: %s seq %d (id %d) is not stored (the log ends at %d)", m.Channel, m.Seq, m.MessageID, len(log)))
			continue
		}
		if s := log[m.Seq-1]; s.MessageID != m.MessageID || s.FromUID != m.FromUID || s.ClientMsgNo != m.ClientMsgNo || string(s.Payload) != string(m.Payload) {
			out.Failures = append(out.Failures, fmt.Sprintf("webhook: %s seq %d arrived as id %d from %s (%s), stored as id %d from %s (%s)",
				m.Channel, m.Seq, m.MessageID, m.FromUID, m.ClientMsgNo, s.MessageID, s.FromUID, s.ClientMsgNo))
		}
	}
	for ch, log := range stored {
		out.Missing += len(log) - int(min(have[ch], uint64(len(log))))
	}
	return out
}

// HasAll reports whether the receiver got every message of stored.
func (r *Receiver) HasAll(stored map[node.ChannelKey][]*node.Message) bool {
	return r.CheckNotified(stored).Missing == 0
}
