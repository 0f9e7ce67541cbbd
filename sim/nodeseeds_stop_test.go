package sim_test

import (
	"math/rand/v2"
	"time"

	"github.com/jindou-im/jindou/chaos"
	"github.com/jindou-im/jindou/sim/world"
)

// Graceful stops (node/stop.go) under the seeds' load: in a third of the
// seeds one node stops as on SIGTERM — it refuses new SENDs while those in
// flight reach their commit, says DISCONNECT, stops — and starts again a
// while later. The users' checks hold it to its promise: a SEND refused
// for the stop (NodeNotMatch) is recorded as failed, so the history check
// fails the seed if it was stored; one acknowledged is stored with its seq;
// the DISCONNECT "server shutting down" is the only one a user accepts.

// drainPoll is how often a stopping node's SENDs in flight are looked at;
// seedStopTimeout bounds the wait, as stop_timeout does.
const (
	drainPoll       = 10 * time.Millisecond
	seedStopTimeout = 10 * time.Second
)

// planGracefulStop draws, from the "graceful-stop" stream, whether, when
// and which node stops.
func (sw *seedWorld) planGracefulStop() {
	r := rand.New(sw.Sim.Rand("graceful-stop"))
	if r.IntN(3) != 0 {
		return
	}
	n := sw.nodes[r.IntN(len(sw.nodes))]
	at := time.Duration(1500+r.IntN(5000)) * time.Millisecond
	down := time.Duration(100+r.IntN(1000)) * time.Millisecond
	sw.Sim.At(at, "graceful-stop", func() { sw.gracefulStop(n, down) })
}

// gracefulStop runs the three steps of a stop on n, then restarts it after
// down. A crash meanwhile (the fault plan's) ends it.
func (sw *seedWorld) gracefulStop(n *world.Node, down time.Duration) {
	if !n.Up() {
		return
	}
	srv := n.Server()
	same := func() bool { return n.Up() && n.Server() == srv }
	srv.Drain()
	deadline := sw.Now() + seedStopTimeout
	var poll func()
	poll = func() {
		if !same() {
			return
		}
		if srv.SendsInFlight() > 0 && sw.Now() < deadline {
			sw.Sim.After(drainPoll, "drain-poll", poll)
			return
		}
		srv.Farewell()
		sw.Sim.After(100*time.Millisecond, "graceful-stop", func() {
			if !same() {
				return
			}
			sw.beforeCrash(n.ID())
			n.Stop()
			sw.res.coverage.Add(chaos.GracefulStops, 1)
			sw.Sim.After(down, "restart", func() {
				if !n.Up() && n.Start() == nil {
					sw.afterRestart(n.ID())
				}
			})
		})
	}
	poll()
}
