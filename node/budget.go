package node

import (
	"fmt"
	"time"

	"github.com/jindou-im/jindou/node/proto"
)

// The resend budget: what the RECVs kept for resend may cost. A reader
// that stops acknowledging (it stopped reading, or reads too slowly for the
// traffic it subscribes to) would otherwise hold every message pushed to it
// until ResendMax resends have passed. Each connection may hold
// Config.ResendBufferBytes unacknowledged; each gateway loop its share of
// Config.ResendBudgetBytes for all of its connections. Past the first the
// connection is cut. Past the second the loop cuts the slowest readers,
// one after another, until it is under its share: the slowest is the one
// whose RECVACKs stopped longest ago, among those that have acknowledged
// nothing for slowReaderGrace (a burst of deliveries fills everyone's
// buffer for a round trip: readers that keep up are never cut; if only
// they hold the budget, the loop looks again when the first of them would
// have waited the grace). Both are decided here, on the loop, from the
// RECVACKs it got: the same in production and in the simulator.

// slowReaderGrace is how long a reader may go without acknowledging
// anything, RECVs waiting, before the budget counts it slow: far above a
// round trip, far below the resend interval.
const slowReaderGrace = time.Second

// budgetRecheck is the shortest wait before the budget is looked at again.
const budgetRecheck = 10 * time.Millisecond

// budgetTag is the timer that looks at the budget again.
type budgetTag struct{}

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
	if len(c.pending) == 0 {
		c.ackedAt = g.now() // waiting from now on
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
		v, next := g.slowest()
		if v == nil {
			if next != nil && !g.budgetArmed {
				g.budgetArmed = true
				// At least budgetRecheck: a timer of a nanosecond may fire
				// before the clock has moved on.
				g.loop.After(max(next.ackedAt+slowReaderGrace-g.now(), budgetRecheck), budgetTag{})
			}
			return
		}
		g.cutSlow(v, cutNodeBudget)
	}
}

// onBudgetTimer looks at the budget again once a reader may have become
// slow.
func (g *gateway) onBudgetTimer() {
	g.budgetArmed = false
	g.settleBudget()
}

// slowest is the open connection that has acknowledged nothing for the
// longest while holding RECVs, if that is at least slowReaderGrace (ties:
// the most bytes, then the lowest connection id); else nil, and next is
// the one that will be first to pass the grace.
func (g *gateway) slowest() (slow, next *client) {
	now := g.now()
	//lint:maporder order-free: the minimum of (ackedAt, -bytes, id) is one total order's minimum
	for _, c := range g.clients {
		if c.pendingBytes == 0 || c.state == stateClosed {
			continue
		}
		if next == nil || c.ackedAt < next.ackedAt ||
			(c.ackedAt == next.ackedAt && (c.pendingBytes > next.pendingBytes ||
				(c.pendingBytes == next.pendingBytes && c.conn.ID() < next.conn.ID()))) {
			next = c
		}
	}
	if next != nil && now-next.ackedAt >= slowReaderGrace {
		return next, nil
	}
	return nil, next
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
