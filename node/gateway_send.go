package node

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/node/state"
)

// Sending: a client's SEND leaves the gateway as a slotSend addressed to
// its channel's slot loop; the answer, a sendDone, names the connection and
// client_seq, and the connection's sending map holds the continuation.

func (g *gateway) onSend(c *client, p *proto.Send) {
	if g.draining {
		g.refuseDraining(c, p)
		return
	}
	ack := func(reason proto.ReasonCode) {
		g.write(c, &proto.Sendack{ClientSeq: p.ClientSeq, ReasonCode: reason})
	}
	var plain []byte
	if c.rpc != nil || (p.Setting&proto.SettingNoEncrypt != 0 && g.n.cfg.AllowPlaintext) {
		plain = slices.Clone(p.Payload)
	} else {
		var err error
		if plain, err = c.sess.OpenSend(nil, p); err != nil {
			ack(proto.ReasonPayloadDecodeError)
			return
		}
	}
	if len(plain) > g.n.cfg.MaxPayloadBytes {
		g.logConn(c, "send refused: payload too large", fmt.Sprintf("%d bytes, limit %d", len(plain), g.n.cfg.MaxPayloadBytes))
		ack(proto.ReasonNotAllowSend)
		return
	}
	if !state.SupportedChannelType(p.ChannelType) {
		ack(proto.ReasonNotSupportChannelType)
		return
	}
	ch, err := state.ResolveChannel(c.uid, p.ChannelID, p.ChannelType)
	if err != nil {
		ack(proto.ReasonChannelIDError)
		return
	}
	req := sendRequest{Ch: ch, AtMs: g.n.env.Clock().Wall().UnixMilli(), Cmd: state.SendCmd{
		From: c.uid, ClientMsgNo: p.ClientMsgNo, Header: state.HeaderOf(p.Flags),
		Setting: p.Setting &^ proto.SettingNoEncrypt, Expire: p.Expire, Topic: p.Topic, Payload: plain,
		StreamNo: p.StreamNo,
	}}
	if c.sending == nil {
		c.sending = map[uint32]inflightSend{} // made on first use: idle connections need none
	}
	slotID := state.SlotOfChannel(ch, g.n.cfg.Slots)
	reply := replyTo{addr: g.n.self(g.name), Conn: c.conn.ID(), ClientSeq: p.ClientSeq}
	m := slotSend{Slot: slotID, Req: req, Reply: reply}
	f := inflightSend{at: g.now(), triedAt: g.now()} // by value: no allocation per SEND
	if g.n.clustered() && req.Cmd.ClientMsgNo != "" && !req.Cmd.Header.NoPersist {
		again := m // a copy: taking m's address would put every SEND's m on the heap
		again.Retry = true
		f.again = &again
	}
	if _, again := c.sending[p.ClientSeq]; !again {
		g.sendStarted()
	}
	c.sending[p.ClientSeq] = f
	g.armSendTimeout(c)
	g.n.post(g.n.slotAddr(slotID), m)
}

// inflightSend is a SEND waiting for its answer. In a cluster the request
// may be lost on its way (passed on to a leader that just crashed or was
// cut off): again is the request to send once more after forwardRetry
// without an answer — only one the state machine deduplicates (with a
// client_msg_no, stored), so that a first attempt that did land answers
// the retry with its own seq.
//
// Once it was sent again, an answer other than success that was not
// decided in the log (sendResult.Recorded) is not final: another attempt
// may still be stored, so the gateway waits for one that is (or for
// SendTimeout, answered SystemError). Refusals of repeated attempts are
// decided in the log (state/refuse.go), so all final answers agree.
type inflightSend struct {
	at, triedAt time.Duration
	again       *slotSend
	retried     bool
}

// onSendDone writes the SENDACK of an answered SEND, unless the connection
// is gone or the SEND already timed out.
func (g *gateway) onSendDone(m sendDone) {
	c := g.clients[m.Reply.Conn]
	if c == nil || c.state != stateReady {
		return
	}
	f, ok := c.sending[m.Reply.ClientSeq]
	if !ok {
		return // answered already (SendTimeout, or an earlier attempt)
	}
	if f.retried && m.Res.Reason != proto.ReasonSuccess && !m.Res.Recorded {
		g.stats.UnrecordedIgnored++
		return // not final: another attempt may be stored
	}
	delete(c.sending, m.Reply.ClientSeq)
	g.sendsEnded(1)
	g.observeSendLatency(g.now() - f.at)
	g.write(c, &proto.Sendack{MessageID: m.Res.MessageID, ClientSeq: m.Reply.ClientSeq, MessageSeq: m.Res.Seq, ReasonCode: m.Res.Reason})
}

func (g *gateway) armSendTimeout(c *client) {
	if !c.sendTimerArmed {
		c.sendTimerArmed = true
		every := g.n.cfg.SendTimeout
		if g.n.clustered() {
			every = min(every, forwardRetry)
		}
		g.loop.After(every, sendTimeoutTag{c.conn.ID()})
	}
}

// onSendTimeout answers SystemError (retryable) to every SEND of the
// connection that waited SendTimeout; a late answer is then dropped. In a
// cluster it also sends again what waited forwardRetry since its last try.
func (g *gateway) onSendTimeout(id uint64) {
	c := g.clients[id]
	if c == nil {
		return
	}
	c.sendTimerArmed = false
	now := g.now()
	for _, seq := range slices.Sorted(maps.Keys(c.sending)) {
		f := c.sending[seq]
		switch {
		case now-f.at >= g.n.cfg.SendTimeout:
			delete(c.sending, seq)
			g.sendsEnded(1)
			g.write(c, &proto.Sendack{ClientSeq: seq, ReasonCode: proto.ReasonSystemError})
		case f.again != nil && now-f.triedAt >= forwardRetry:
			f.triedAt, f.retried = now, true
			c.sending[seq] = f
			g.stats.SendRetries++
			g.n.post(g.n.slotAddr(f.again.Slot), *f.again)
		}
	}
	if len(c.sending) > 0 {
		g.armSendTimeout(c)
	}
}
