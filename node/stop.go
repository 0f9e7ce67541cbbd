package node

import (
	"sync/atomic"

	"github.com/jindou-im/jindou/node/proto"
)

// A graceful stop in three steps, so that nobody is told "failed" about a
// message that was stored:
//
//  1. Drain: every gateway refuses new SENDs (SENDACK NodeNotMatch:
//     not stored, send again, to this node once it is back or to another)
//     while the SENDs already handed to a slot go on to their commit and
//     are answered with their real outcome, seq and all.
//  2. Farewell, once none is in flight (or the runtime's stop timeout has
//     passed): every connection is told DISCONNECT; the gateway goes on
//     reading what clients still send (a SEND written before the client
//     read the DISCONNECT is refused, not left unanswered) until they close.
//  3. Stop: the loops no longer run; what is still in flight is failed
//     with SystemError, the rest closed, the store synced and closed.
//
// The runtime drives the steps from outside the loops (reactor.Host.Stop);
// SendsInFlight is the one figure it reads, an atomic the gateways keep.

// drainMsg tells a gateway to refuse new SENDs; farewellMsg to say
// DISCONNECT to every connection.
type (
	drainMsg    struct{}
	farewellMsg struct{}
)

func (drainMsg) Kind() string    { return "drain" }
func (farewellMsg) Kind() string { return "farewell" }

// drainReason answers a SEND that came once the node was stopping.
const drainReason = proto.ReasonNodeNotMatch

// stopFigures are what the runtime reads during a graceful stop.
type stopFigures struct {
	// sendsInFlight are SENDs handed to a slot and not yet answered, over
	// every gateway (the gateways add and subtract; Handle never reads it).
	sendsInFlight atomic.Int64
}

// Drain starts a graceful stop: new SENDs are refused from now on, those
// in flight go on. It may be called from any goroutine.
// In a cluster the slot loops also hand their leaderships off
// (handoff.go), so that the other members lead at once when this node
// goes.
func (n *Node) Drain() {
	for _, g := range n.gateways {
		g.loop.Post(drainMsg{})
	}
	if n.clustered() {
		n.broadcastSlotLoops(handOffNow{})
	}
}

// SendsInFlight is how many SENDs wait for their slot's answer; it may be
// read from any goroutine.
func (n *Node) SendsInFlight() int64 { return n.stop.sendsInFlight.Load() }

// Farewell tells every connection DISCONNECT; the gateways keep reading
// (and refusing SENDs) until the clients close. Any goroutine.
func (n *Node) Farewell() {
	for _, g := range n.gateways {
		g.loop.Post(farewellMsg{})
	}
}

func (g *gateway) onDrain() { g.draining = true }

// onFarewell says DISCONNECT to every logged-in connection (closing the
// others) and keeps it open for the client to close: its SENDs are still
// answered (refused), but no RECV follows the DISCONNECT.
func (g *gateway) onFarewell() {
	g.draining = true
	for _, c := range g.sortedClients() {
		if c.state != stateReady {
			g.close(c)
			continue
		}
		g.write(c, disconnectShutdown)
		c.leaving = true
	}
}

// refuseDraining answers a SEND that came while the node stops.
func (g *gateway) refuseDraining(c *client, p *proto.Send) {
	g.stats.DrainRefused++
	g.write(c, &proto.Sendack{ClientSeq: p.ClientSeq, ReasonCode: drainReason})
}

// sendStarted and sendsEnded keep the node's count of SENDs in flight.
func (g *gateway) sendStarted()     { g.n.stop.sendsInFlight.Add(1) }
func (g *gateway) sendsEnded(k int) { g.n.stop.sendsInFlight.Add(-int64(k)) }
