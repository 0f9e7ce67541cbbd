package reactor

import "time"

// Drainer is a process that can finish what it started before it stops
// (node.Node is one). Host.Stop drives it from outside the loops, which
// keep running meanwhile:
//
//  1. Drain: the process refuses new work and lets what is in flight
//     finish; Stop waits until SendsInFlight is 0, at most
//     Config.StopTimeout.
//  2. Farewell: the process says goodbye to its clients; Stop waits until
//     they have closed, at most Config.StopLinger (and never past the
//     stop timeout's end by more than that).
//
// Then the loops park and Process.Stop runs as for any process.
type Drainer interface {
	Drain()
	SendsInFlight() int64
	Farewell()
}

// drainPoll is how often Stop looks at a draining process's figures.
const drainPoll = 5 * time.Millisecond

// drain runs the two steps of a Drainer's stop.
func (h *Host) drain(d Drainer) {
	begin := time.Now()
	d.Drain()
	waitFor(h.cfg.StopTimeout, func() bool { return d.SendsInFlight() == 0 })
	inFlight := d.SendsInFlight()
	d.Farewell()
	waitFor(h.cfg.StopLinger, func() bool {
		h.connsMu.Lock()
		defer h.connsMu.Unlock()
		return len(h.conns) == 0
	})
	h.cfg.Logger.Info("drained before the stop", "took", time.Since(begin).Round(time.Millisecond), "sends_unfinished", inFlight)
}

// waitFor polls done until it holds or limit has passed.
func waitFor(limit time.Duration, done func() bool) {
	deadline := time.Now().Add(limit)
	for !done() && time.Now().Before(deadline) {
		time.Sleep(drainPoll)
	}
}
