package state

import "github.com/cockroachdb/pebble/v2"

// StoredSend is the message a send of from to ch with clientMsgNo repeats,
// if one was stored within the dedupe window of atMs. A leader asks it
// before it refuses a send: a repeat (a client's retry, or the gateway's
// after a lost answer) of a message stored while the rules allowed it is
// answered with the stored message, not refused by a rule changed since.
func (m *Machine) StoredSend(r pebble.Reader, ch ChannelKey, from, clientMsgNo string, atMs int64) (*Message, bool) {
	if clientMsgNo == "" {
		return nil, false
	}
	d, ok := readDedupe(r, dedupeKey(m.slot, ch, from, clientMsgNo))
	if !ok {
		return nil, false
	}
	if d.Refused != 0 || !dedupeWindowHit(d.AtMs, atMs, m.dedupeWindowMs) {
		return nil, false
	}
	msgs := ReadMessages(r, m.slot, ch, d.Seq, d.Seq)
	if len(msgs) != 1 {
		return nil, false
	}
	return msgs[0], true
}
