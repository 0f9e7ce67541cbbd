package node

import (
	"fmt"

	"github.com/jindou-im/jindou/node/proto"
)

// The resend budget: what the RECVs kept for resend may cost. A reader
// that stops acknowledging (it stopped reading, or reads too slowly for the
// traffic it subscribes to) would otherwise hold every message pushed to it
// until ResendMax resends have passed. Each connection may hold
// Config.ResendBufferBytes unacknowledged; each gateway loop its share of
// Config.ResendBudgetBytes for all of its connections. Past the first the
// connection is cut; past the second the loop cuts the readers holding the
// most, one after another, until it is under its share: the slowest pay,
// and the others never slow down. Both are decided here, on the loop, from
// the RECVACKs it got: the same in production and in the simulator.

// slowCut names why a slow reader was cut.
type slowCut uint8

const (
	cutConnCap    slowCut = iota // its own unacknowledged RECVs passed ResendBufferBytes
	cutNodeBudget                // its loop's share of ResendBudgetBytes was spent; it held the most
)

// track adds a RECV kept for resend to c's and the loop's accounts; a
// connection past its cap is noted for settleBudget (cutting it now would
// change the online lists a delivery is walking).
func (g *gateway) track(c *client, mid int64, pr *pendingRecv) {
	if c.pending == nil {
		c.pending = map[int64]*pendingRecv{} // made on first use: idle connections need none
	}
	c.pending[mid] = pr
	c.pendingBytes += len(pr.frame)
	g.pendingBytes += len(pr.frame)
	if c.pendingBytes > g.n.cfg.ResendBufferBytes && !c.overCap {
		c.overCap = true
		g.overCap = append(g.overCap, c)
	}
}

// untrack drops a RECV from c's resend buffer (acknowledged, forgotten or
// resent too often).
func (g *gateway) untrack(c *client, mid int64) {
	pr, ok := c.pending[mid]
	if !ok {
		return
	}
	delete(c.pending, mid)
	c.pendingBytes -= len(pr.frame)
	g.pendingBytes -= len(pr.frame)
}

// releasePending gives back all of a closed connection's resend buffer.
func (g *gateway) releasePending(c *client) {
	g.pendingBytes -= c.pendingBytes
	c.pendingBytes = 0
	c.pending = nil
}

// loopBudget is this loop's share of the node's resend budget.
func (g *gateway) loopBudget() int {
	return max(1, g.n.cfg.ResendBudgetBytes/g.n.cfg.GatewayLoops)
}

// settleBudget cuts the connections a delivery took past their own cap
// (in the order they passed it), then the slowest readers of the loop while
// the loop holds more than its share.
func (g *gateway) settleBudget() {
	for _, c := range g.overCap {
		c.overCap = false
		if c.pendingBytes > g.n.cfg.ResendBufferBytes {
			g.cutSlow(c, cutConnCap)
		}
	}
	g.overCap = g.overCap[:0]
	for g.pendingBytes > g.loopBudget() {
		v := g.slowest()
		if v == nil {
			return
		}
		g.cutSlow(v, cutNodeBudget)
	}
}

// slowest is the open connection holding the most unacknowledged bytes
// (ties: the lowest connection id), or nil if none holds any.
func (g *gateway) slowest() *client {
	var best *client
	//lint:maporder order-free: the maximum of (bytes, -id) is one total order's maximum
	for _, c := range g.clients {
		if c.pendingBytes == 0 || c.state == stateClosed {
			continue
		}
		if best == nil || c.pendingBytes > best.pendingBytes ||
			(c.pendingBytes == best.pendingBytes && c.conn.ID() < best.conn.ID()) {
			best = c
		}
	}
	return best
}

// cutSlow disconnects a slow reader with the reason and counts it by cause.
func (g *gateway) cutSlow(c *client, why slowCut) {
	if c.state == stateClosed {
		return
	}
	var reason string
	switch why {
	case cutConnCap:
		g.stats.SlowCutsConnCap++
		reason = fmt.Sprintf("slow reader: %d bytes of messages unacknowledged, over the connection's limit of %d", c.pendingBytes, g.n.cfg.ResendBufferBytes)
	case cutNodeBudget:
		g.stats.SlowCutsBudget++
		reason = fmt.Sprintf("slow reader: the server's buffer for unacknowledged messages is full and this connection held the most (%d bytes)", c.pendingBytes)
	}
	g.logConn(c, "connection closed: slow reader", reason)
	g.write(c, &proto.Disconnect{ReasonCode: proto.ReasonUnknown, Reason: reason})
	g.close(c)
}
