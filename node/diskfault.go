package node

import (
	"errors"
	"time"

	"github.com/jindou-im/jindou/node/state"
	"github.com/jindou-im/jindou/runtime"
)

// A full disk. When a slot loop's group commit fails with
// runtime.ErrDiskFull (the runtime refused it for want of room, having
// written nothing, or the write ran out of space), the loop's slots refuse
// new writes until a commit succeeds again:
//
//   - The Readies of the failed commit were not persisted, so they stay
//     where they are: their slots are not advanced, their messages are not
//     sent and their entries are not applied; the same Readies are written
//     again after a backoff (diskProbeMinDelay doubling to
//     diskProbeMaxDelay) on the loop's own timer. That retry is the probe:
//     the first one that succeeds ends the episode. A leader stuck so sends
//     no heartbeats either, and in a cluster the other replicas elect a
//     leader whose disk has room.
//   - Every new proposal of the loop (a SEND, an API write) is answered at
//     once with ErrDiskFull: SENDACK reason 15 (ReasonSystemError,
//     WuKongIM's code for "the server could not take it, retry"), HTTP 503.
//     Proposals already in a Ready that waits are not answered with a
//     failure: they may yet be stored, and are acknowledged when they are
//     (or their requester's timeout answers them first, as for any slow
//     write). Nothing is acknowledged before it is durable.
//   - Reads, and sends that store nothing (no_persist), are served as
//     before: the applied state is intact.
//   - /readyz answers not ready while any loop is in an episode; each
//     episode logs one line as it starts and one as it ends, not one per
//     refused write.
//
// Other disk errors (a failed fsync's EIO, the simulator's injected
// errors) keep the plain retry: a Ready whose write failed is written again
// after diskRetryDelay, and nothing is refused for them.

// ErrDiskFull: the slot's disk has no room; writes are refused until space
// returns. Retryable.
var ErrDiskFull = errors.New("node: disk full: writes are refused until space returns")

const (
	// diskProbeMinDelay and diskProbeMaxDelay bound the backoff between
	// retries of a commit refused for a full disk: space that returns is
	// noticed within diskProbeMaxDelay.
	diskProbeMinDelay = diskRetryDelay
	diskProbeMaxDelay = time.Second
)

// diskEpisode is a slot loop's view of its disk: whether it is full, since
// when, the next retry's delay, and the writes refused meanwhile.
type diskEpisode struct {
	full    bool
	since   time.Duration
	delay   time.Duration
	refused int64
}

// onPersistFailed schedules the retry of a group commit that failed.
func (sl *slotLoop) onPersistFailed(ids []int, err error) {
	sl.stats.DiskRetries++
	delay := diskRetryDelay
	if errors.Is(err, runtime.ErrDiskFull) {
		sl.diskFull(err)
		delay = sl.disk.delay
		sl.disk.delay = min(2*sl.disk.delay, diskProbeMaxDelay)
	}
	sl.loop.After(delay, retryTag{ids})
}

// diskFull starts an episode (if none is on).
func (sl *slotLoop) diskFull(err error) {
	if sl.disk.full {
		return
	}
	sl.disk = diskEpisode{full: true, since: sl.n.env.Clock().Now(), delay: diskProbeMinDelay}
	sl.stats.DiskFullEpisodes++
	sl.n.env.Log().Error("disk full: refusing writes until space returns", "loop", sl.name, "err", err.Error())
}

// diskWritable ends an episode: a commit succeeded.
func (sl *slotLoop) diskWritable() {
	if !sl.disk.full {
		return
	}
	lasted := sl.n.env.Clock().Now() - sl.disk.since
	sl.n.env.Log().Info("disk writable again: accepting writes", "loop", sl.name,
		"full_for", durationText(lasted), "refused", sl.disk.refused)
	sl.disk = diskEpisode{}
}

// refuseForDisk answers a new proposal with ErrDiskFull during an episode,
// and reports whether it did.
func (sl *slotLoop) refuseForDisk(p pendingProposal) bool {
	if !sl.disk.full {
		return false
	}
	sl.disk.refused++
	sl.stats.DiskFullRefused++
	sl.complete(p, state.Result{}, ErrDiskFull)
	return true
}
