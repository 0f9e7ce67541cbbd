package node

import (
	"maps"
	"slices"

	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/node/state"
)

// Delivery: RECVs pushed to a gateway's online connections, tracked until
// RECVACK and resent with DUP.

func (g *gateway) onDeliver(m deliverMsg) {
	for _, uid := range m.Recipients {
		for _, c := range g.online[uid] {
			if c.state != stateReady || c.leaving || g.ref(c) == m.Except {
				continue
			}
			g.push(c, m.Msg)
		}
	}
	g.settleBudget()
}

// push writes a RECV of msg to c, encrypted for c, and tracks it until
// RECVACK.
func (g *gateway) push(c *client, msg *state.Message) {
	if _, pushed := c.pending[msg.MessageID]; pushed {
		return // a repeat of a delivery still awaiting its RECVACK
	}
	if g.seenBefore(c, msg) {
		g.stats.LateDeliveries++
		return
	}
	r := &proto.Recv{
		Flags: msg.Header.Flags(), Setting: msg.Setting, FromUID: msg.FromUID,
		ChannelID: msg.Channel.PeerOf(c.uid), ChannelType: msg.Channel.Type, Expire: msg.Expire,
		ClientMsgNo: msg.ClientMsgNo, MessageID: msg.MessageID, MessageSeq: msg.Seq,
		Timestamp: msg.Timestamp, Topic: msg.Topic,
		// As WuKongIM: the stream id of a RECV is its message id.
		StreamNo: msg.StreamNo, StreamID: uint64(msg.MessageID),
	}
	frame := g.writeRecv(c, r, msg.Payload)
	if len(c.pending) >= maxPendingRecvs {
		g.forgetOldest(c)
	}
	g.stats.RecvsSent++
	g.track(c, msg.MessageID, &pendingRecv{frame: frame, seq: msg.Seq, sentAt: g.now(), firstAt: g.now(), sends: 1})
	if !c.resendArmed {
		c.resendArmed = true
		g.loop.After(g.n.cfg.ResendInterval, resendTag{c.conn.ID()})
	}
}

// writeRecv writes r with payload to c (sealed for c on WKProto) and
// returns the frame to resend it with.
func (g *gateway) writeRecv(c *client, r *proto.Recv, payload []byte) []byte {
	if c.rpc == nil {
		c.sess.SealRecv(r, payload)
		return g.write(c, r)
	}
	r.Payload = payload
	g.write(c, r)
	r.Flags |= proto.FlagDup
	return g.encodeRPC(c, r)
}

// seenBefore reports whether c was pushed msg's channel at msg's seq or
// later already, and otherwise records msg's seq. In a cluster a delivery
// can reach a node twice (a link that duplicates, a new leader applying
// what the old one pushed) or after a later one (a link that reorders):
// such a delivery is not pushed, so that a connection never gets a message
// twice, nor a channel's messages out of seq order (a client that sees a
// gap in a channel's seqs syncs it; the message is stored).
// A cluster of one delivers each message once, in order, and keeps no
// such record. At most maxSeenChannels channels are remembered per
// connection; past it the record starts afresh.
func (g *gateway) seenBefore(c *client, msg *state.Message) bool {
	if !g.n.clustered() || msg.Seq == 0 {
		return false // one node; or no_persist, which has no seq
	}
	if last, ok := c.seen[msg.Channel]; ok && msg.Seq <= last {
		return true
	}
	if c.seen == nil || len(c.seen) >= maxSeenChannels {
		c.seen = map[state.ChannelKey]uint64{}
	}
	c.seen[msg.Channel] = msg.Seq
	return false
}

func (g *gateway) forgetOldest(c *client) {
	var oldest int64
	first := true
	//lint:maporder order-free: the minimum of distinct ids is the same in any order
	for id := range c.pending {
		if first || id < oldest {
			oldest, first = id, false
		}
	}
	g.untrack(c, oldest)
}

func (g *gateway) onRecvack(c *client, p *proto.Recvack) {
	c.ackedAt = g.now()
	if _, ok := c.pending[p.MessageID]; ok {
		g.acked(c, p.MessageID)
		return
	}
	// The JS SDK writes message ids through a double and may ack a
	// neighbouring id: take the nearest pending id with that seq.
	best, found := int64(0), false
	//lint:maporder order-free: the nearest id, ties to the lower, is one total order's minimum
	for id, pr := range c.pending {
		if pr.seq != p.MessageSeq || absDiff(id, p.MessageID) >= 1<<12 {
			continue
		}
		if !found || absDiff(id, p.MessageID) < absDiff(best, p.MessageID) ||
			(absDiff(id, p.MessageID) == absDiff(best, p.MessageID) && id < best) {
			best, found = id, true
		}
	}
	if found {
		g.acked(c, best)
	}
}

func absDiff(a, b int64) int64 {
	if a > b {
		return a - b
	}
	return b - a
}

// onResend resends every RECV unacknowledged for a resend interval, up to
// the maximum count, in message id order.
func (g *gateway) onResend(id uint64) {
	c := g.clients[id]
	if c == nil {
		return
	}
	c.resendArmed = false
	if c.leaving {
		return // told DISCONNECT: nothing more is pushed
	}
	now := g.now()
	for _, mid := range slices.Sorted(maps.Keys(c.pending)) {
		pr := c.pending[mid]
		if now-pr.sentAt < g.n.cfg.ResendInterval {
			continue
		}
		if pr.sends > g.n.cfg.ResendMax {
			g.untrack(c, mid)
			continue
		}
		if c.rpc == nil {
			pr.frame[0] |= byte(proto.FlagDup) // a JSON-RPC frame is kept in its resent form
		}
		c.conn.Write(pr.frame)
		c.outMsgs++
		c.outBytes += int64(len(pr.frame))
		g.stats.Resends++
		g.stats.OutMsgs++
		g.stats.OutBytes += int64(len(pr.frame))
		pr.sentAt, pr.sends = now, pr.sends+1
	}
	if len(c.pending) > 0 {
		c.resendArmed = true
		g.loop.After(g.n.cfg.ResendInterval, resendTag{id})
	}
}
