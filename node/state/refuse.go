package state

import "github.com/jindou-im/jindou/node/proto"

// Refusals through the log. A gateway in a cluster sends a SEND again when
// its answer is late (the forward may have been lost with a leader), so
// one SEND may be decided more than once, by different leaders or by one
// leader at different times, while its channel's rules change. A store is
// always decided in the log (the dedupe record makes every later attempt
// answer the same seq); a refusal of a repeated attempt is too: the leader
// proposes OpRefuse, and the first of the two entries for a dedupe key wins.
//
//   - OpRefuse applied where the key has a stored message within the
//     window: answered with that message (the send did land);
//   - otherwise it writes a refused dedupe record, and any later OpSend of
//     the same key within the window is answered with the refusal and not
//     stored.
//
// So a client is never told "refused" for a message that is stored.

// OpRefuse records that a send (Send's From and ClientMsgNo, in Ch) was
// refused with the reason in Seq (a proto.ReasonCode).
const OpRefuse = "send_refuse"

// RefuseCommand is the command that records the refusal of send in ch.
func RefuseCommand(ch ChannelKey, send *SendCmd, atMs int64, reason proto.ReasonCode) Command {
	return Command{Op: OpRefuse, AtMs: atMs, Ch: ch, Send: &SendCmd{From: send.From, ClientMsgNo: send.ClientMsgNo}, Seq: uint64(reason)}
}

// applyRefuse applies OpRefuse.
func (f *fsm) applyRefuse(c *Command) Result {
	s := c.Send
	reason := proto.ReasonCode(c.Seq)
	if reason == 0 || reason == proto.ReasonSuccess {
		reason = proto.ReasonSystemError // never proposed so
	}
	if s == nil || s.ClientMsgNo == "" {
		return Result{Refused: reason} // never proposed so: refused all the same, nothing recorded
	}
	dkey := f.dedupeKey(c.Ch, s.From, s.ClientMsgNo)
	if d, ok := f.dedupe(c.Ch, s.From, s.ClientMsgNo, dkey); ok && dedupeWindowHit(d.AtMs, c.AtMs, f.dedupeWindowMs) {
		if d.Refused != 0 {
			return Result{Refused: d.Refused}
		}
		return Result{Msg: f.message(c.Ch, d.Seq), Duplicate: true}
	}
	d := dedupeRecord{AtMs: c.AtMs, Refused: reason}
	f.putRecord(dkey, &d)
	if f.cache != nil {
		f.cache.dedupeStored(c.Ch, s.From, s.ClientMsgNo, d)
	}
	return Result{Refused: reason}
}
