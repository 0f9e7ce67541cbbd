package sim

import "time"

// clock is a process's clock: monotonic time runs at (1e6+driftPPM)/1e6 of
// virtual time; wall time is the epoch plus virtual time plus a skew that
// tests may change at will (a jump).
type clock struct {
	s *Sim
	// baseVirt and baseLocal pin the monotonic line: at virtual baseVirt
	// the local monotonic time was baseLocal. They move on every drift
	// change so that Now stays continuous.
	baseVirt, baseLocal time.Duration
	driftPPM            int64
	wallSkew            time.Duration
}

func (c *clock) Now() time.Duration {
	return c.baseLocal + time.Duration(int64(c.s.now-c.baseVirt)*(1_000_000+c.driftPPM)/1_000_000)
}

func (c *clock) Wall() time.Time { return c.s.epoch.Add(c.s.now + c.wallSkew) }

// toVirtual converts a local monotonic duration to virtual time.
func (c *clock) toVirtual(d time.Duration) time.Duration {
	return time.Duration(int64(d) * 1_000_000 / (1_000_000 + c.driftPPM))
}

func (c *clock) setDrift(ppm int64) {
	if ppm <= -1_000_000 {
		panic("sim: clock drift must keep time moving forward")
	}
	c.baseLocal = c.Now()
	c.baseVirt = c.s.now
	c.driftPPM = ppm
}
