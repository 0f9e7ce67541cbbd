package sim_test

import (
	"slices"
	"time"

	"github.com/jindou-im/jindou/chaos"
)

// The seeds' disk-full promises (chaos.DiskFull, node/diskfault.go): while
// a disk is full its node refuses writes with SENDACK reason 15 or
// node.ErrDiskFull (counted: chaos.DiskFullRefusals; a node of one that
// answers 15 outside an episode fails the seed, see onSendack), nothing
// acknowledged is lost (the history's check), and once space returns the
// node takes writes again: checkDiskRecovery.

// diskRecoverBound is how soon after a disk got room back a node of one
// must acknowledge a send again (its retried commit finds the room within
// a second; the users retry refused sends every retryDelay).
const diskRecoverBound = 3 * time.Second

// noteAck records when a send was acknowledged (in time order).
func (sw *seedWorld) noteAck() { sw.ackTimes = append(sw.ackTimes, sw.Now()) }

// checkDiskRecovery fails the seed if, on a node of one, no send was
// acknowledged within diskRecoverBound after a disk-full episode ended.
// Episodes that end too near the quiet phase, or that a crash overlaps
// (the node restarts only once the disk has room), are not judged.
func (sw *seedWorld) checkDiskRecovery() {
	if sw.cluster() {
		return
	}
	for _, f := range sw.res.plan {
		d, ok := f.(chaos.DiskFull)
		if !ok {
			continue
		}
		end := d.At + d.For
		if end+diskRecoverBound > sw.quietAt || sw.crashNear(d.At, end+diskRecoverBound) {
			continue
		}
		i, _ := slices.BinarySearch(sw.ackTimes, end)
		if i == len(sw.ackTimes) || sw.ackTimes[i] > end+diskRecoverBound {
			sw.fail("no send acknowledged within %v of the disk getting room back at %v (%s)", diskRecoverBound, end, d)
		}
	}
}

// crashNear reports whether a crash of the plan has the node down at some
// time in [from, to].
func (sw *seedWorld) crashNear(from, to time.Duration) bool {
	for _, f := range sw.res.plan {
		switch c := f.(type) {
		case chaos.Crash:
			if c.At <= to && c.At+c.Down+diskRecoverBound >= from {
				return true
			}
		case chaos.PowerLoss:
			if c.At <= to && c.At+c.Down+diskRecoverBound >= from {
				return true
			}
		}
	}
	return false
}
