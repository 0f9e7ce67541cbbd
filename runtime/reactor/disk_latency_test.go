package reactor

import (
	"testing"
	"time"

	"github.com/jindou-im/jindou/runtime"
)

// Every group commit the disk writer runs is one observation of
// DiskCommitLatency, in the bucket of at least the time its commits took.
func TestEveryGroupCommitIsTimedInTheDiskCommitHistogram(t *testing.T) {
	done := make(chan runtime.DiskDone, 1)
	p := &testProc{on: func(_ *testProc, _ int, ev runtime.Event) {
		if d, ok := ev.(runtime.DiskDone); ok {
			done <- d
		}
	}}
	h := startHost(t, testConfig(t), p)
	before := h.DiskCommitLatency()
	const slow = 30 * time.Millisecond
	commitOnce(t, p, done, func() error { time.Sleep(slow); return nil })
	commitOnce(t, p, done, func() error { return nil })
	after := h.DiskCommitLatency()
	var observed, slowOnes int64
	for i := range after.Counts {
		observed += after.Counts[i] - before.Counts[i]
		if i == len(after.Bounds) || after.Bounds[i] >= slow.Seconds() {
			slowOnes += after.Counts[i] - before.Counts[i]
		}
	}
	if observed != 2 || slowOnes < 1 {
		t.Fatalf("two group commits made %d observations, %d of them in a bucket of %v or more", observed, slowOnes, slow)
	}
	if got := after.Sum - before.Sum; got < slow {
		t.Fatalf("the histogram sums %v for commits that took at least %v", got, slow)
	}
}
