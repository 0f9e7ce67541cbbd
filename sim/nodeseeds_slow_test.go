package sim_test

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/sim/world"
)

// Readers that stopped reading, and the resend budget that cuts them.
//
// In half the seeds some users have one more device that never
// acknowledges a RECV (it stopped reading: the node cannot tell the
// difference), reconnecting a while after each cut; and the node's resend
// budget is drawn small enough for the traffic to fill it: the per-
// connection cap in those seeds, the node-wide budget in half of them. The
// seed's checks then hold with slow readers cut under load: nothing the
// other connections were promised is lost or reordered. The coverage
// counter slow_reader_cuts fails a seed set in which nobody was cut.

// drawBudget decides, from the seed's "stalled" stream, whether the seed
// has stalled readers, and then draws the node's resend budget small
// enough for them to fill it within the run, yet above what a burst of
// deliveries (a partition healed, a new leader's backlog) puts in front of
// a reader that keeps up: those must never be cut (a user's connection
// that is disconnected fails the seed).
func (sw *seedWorld) drawBudget(cfg *node.Config) {
	r := rand.New(sw.Sim.Rand("stalled"))
	if sw.stalled = r.IntN(2) == 1; !sw.stalled {
		return
	}
	cfg.ResendBufferBytes = 12<<10 + r.IntN(12<<10)
	if r.IntN(2) == 0 {
		cfg.ResendBudgetBytes = (24<<10 + r.IntN(24<<10)) * max(cfg.GatewayLoops, 1)
	}
}

// makeStalledReaders gives some users a device that never acknowledges,
// from the "stalled" stream.
func (sw *seedWorld) makeStalledReaders() {
	if !sw.stalled {
		return
	}
	r := rand.New(sw.Sim.Rand("stalled-readers"))
	for i := range 1 + r.IntN(3) {
		u := sw.users[r.IntN(len(sw.users))]
		c := sw.NewClient(world.ClientSpec{UID: u.uid, Device: fmt.Sprintf("stall%d", i), Flag: u.c.Flag, Version: u.c.Version, Pick: sw.clientNode})
		c.AutoAck = false
		rng := rand.New(sw.Sim.Rand(fmt.Sprintf("stalled/%d", i)))
		c.OnClosed = func(error) { c.Loop().After(time.Duration(500+rng.IntN(2500))*time.Millisecond, "connect") }
		c.OnTimer = func(tag any) {
			if tag == "connect" && !c.Open && !sw.quiet {
				c.Connect()
			}
		}
		c.Loop().After(time.Duration(rng.IntN(2000))*time.Millisecond, "connect")
	}
}
