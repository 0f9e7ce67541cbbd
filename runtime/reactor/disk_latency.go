package reactor

import (
	"sync/atomic"
	"time"
)

// The disk writer's latency: how long each group commit took to run (the
// free-space check, its commits and their WAL sync), as a histogram read
// by Host.DiskCommitLatency for /metrics
// (jindou_disk_commit_duration_seconds).

// DiskCommitBuckets are the histogram's upper bounds, in seconds.
var DiskCommitBuckets = [...]float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}

// durationHist counts durations into DiskCommitBuckets with atomics: one
// writer (the disk writer's goroutine), readers at any time. The sum is
// added before the count, so a reader may see a duration in the sum whose
// count it does not see yet (one observation at most).
type durationHist struct {
	counts [len(DiskCommitBuckets) + 1]atomic.Int64
	sumNs  atomic.Int64
}

func (h *durationHist) observe(d time.Duration) {
	sec := d.Seconds()
	i := 0
	for i < len(DiskCommitBuckets) && sec > DiskCommitBuckets[i] {
		i++
	}
	h.sumNs.Add(int64(d))
	h.counts[i].Add(1)
}

// DurationFigures are a histogram: Counts per bucket of Bounds (seconds),
// the last one +Inf, and the sum of the durations.
type DurationFigures struct {
	Bounds []float64
	Counts []int64
	Sum    time.Duration
}

func (h *durationHist) figures() DurationFigures {
	out := DurationFigures{Bounds: DiskCommitBuckets[:], Counts: make([]int64, len(h.counts))}
	for i := range h.counts {
		out.Counts[i] = h.counts[i].Load()
	}
	out.Sum = time.Duration(h.sumNs.Load())
	return out
}

// DiskCommitLatency is the histogram of the group commits' run times since
// the host was made.
func (h *Host) DiskCommitLatency() DurationFigures { return h.queues.diskCommit.figures() }
