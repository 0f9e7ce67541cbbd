package reactor

import (
	"sync"
	"testing"
	"time"

	"github.com/jindou-im/jindou/runtime"
)

// TestLoopQueueHighWaterIsTheMostThatWaitedAndLengthDrainsToZero blocks a
// loop in a turn, posts n events behind it, and reads the loop's queue
// figures: n wait, the high-water mark is n; once the loop has started the
// last of them, nothing waits and the high-water mark stays.
func TestLoopQueueHighWaterIsTheMostThatWaitedAndLengthDrainsToZero(t *testing.T) {
	const n = 100
	blocked, release, last := make(chan struct{}), make(chan struct{}), make(chan struct{})
	handled := 0
	p := &testProc{n: 1}
	p.on = func(_ *testProc, _ int, ev runtime.Event) {
		e, ok := ev.(runtime.Posted)
		if !ok {
			return
		}
		if e.Msg.(ping).data == "block" {
			close(blocked)
			<-release
			return
		}
		if handled++; handled == n {
			close(last)
		}
	}
	h := startHost(t, testConfig(t), p)
	unblock := releaseOnFailure(t, release)
	if got := h.QueueStats().Loops["l0"]; got != (QueueFigures{}) {
		t.Fatalf("an idle loop's queue: %+v, want zero", got)
	}
	p.loops[0].Post(ping{"block"})
	<-blocked
	for range n {
		p.loops[0].Post(ping{"queued"})
	}
	if got := h.QueueStats().Loops["l0"]; got != (QueueFigures{Length: n, HighWater: n}) {
		t.Fatalf("behind a blocked turn: %+v, want length and high-water %d", got, n)
	}
	unblock()
	<-last
	if got := h.QueueStats().Loops["l0"]; got != (QueueFigures{Length: 0, HighWater: n}) {
		t.Fatalf("drained: %+v, want length 0, high-water %d", got, n)
	}
}

// TestDiskQueueCountsCommitsQueuedBehindARunningOneAndRunsThemAsOneBatch
// blocks the disk writer in a commit, submits n more, and reads the disk
// queue's figures: n wait (high-water n) while the first runs, and once
// they ran nothing waits and the largest batch is the n taken together.
func TestDiskQueueCountsCommitsQueuedBehindARunningOneAndRunsThemAsOneBatch(t *testing.T) {
	const n = 50
	running, release, allDone := make(chan struct{}), make(chan struct{}), make(chan struct{})
	done := 0
	p := &testProc{n: 1}
	p.on = func(_ *testProc, _ int, ev runtime.Event) {
		if _, ok := ev.(runtime.DiskDone); ok {
			if done++; done == n+1 {
				close(allDone)
			}
		}
	}
	h := startHost(t, testConfig(t), p)
	unblock := releaseOnFailure(t, release)
	d := p.env.Disk()
	d.Commit(p.loops[0], func() error {
		close(running)
		<-release
		return nil
	}, "first")
	<-running
	for i := range n {
		d.Commit(p.loops[0], func() error { return nil }, i)
	}
	want := DiskQueueFigures{Length: n, HighWater: n, MaxBatch: 1}
	if got := h.QueueStats().Disk; got != want {
		t.Fatalf("behind a running commit: %+v, want %+v", got, want)
	}
	unblock()
	<-allDone
	want = DiskQueueFigures{Length: 0, HighWater: n, MaxBatch: n}
	if got := h.QueueStats().Disk; got != want {
		t.Fatalf("after the commits ran: %+v, want %+v", got, want)
	}
	if got := h.Stats().DiskCommits; got != n+1 {
		t.Fatalf("disk commits %d, want %d", got, n+1)
	}
}

// releaseOnFailure returns the func that closes release, and closes it
// when the test ends if it was not called, so that a failing test does not
// leave a turn or a commit blocked and the host's Stop (a cleanup
// registered before, so run after) waiting for it.
func releaseOnFailure(t *testing.T, release chan struct{}) func() {
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	t.Cleanup(unblock)
	return unblock
}

type armN struct{ n int }

func (armN) Kind() string { return "armN" }

type stopAll struct{}

func (stopAll) Kind() string { return "stopAll" }

// TestTimerHeapFiguresFollowArmedAndStoppedTimers arms n timers that will
// not fire during the test, then stops them: the heap's length goes to n
// and back to 0, its high-water mark stays n.
func TestTimerHeapFiguresFollowArmedAndStoppedTimers(t *testing.T) {
	const n = 20
	var armed []runtime.Timer
	turned := make(chan struct{})
	p := &testProc{n: 1}
	p.on = func(p *testProc, _ int, ev runtime.Event) {
		e, ok := ev.(runtime.Posted)
		if !ok {
			return
		}
		switch m := e.Msg.(type) {
		case armN:
			for range m.n {
				armed = append(armed, p.loops[0].After(time.Hour, nil))
			}
		case stopAll:
			for _, tm := range armed {
				if !tm.Stop() {
					t.Error("an armed timer did not stop")
				}
			}
		}
		turned <- struct{}{}
	}
	h := startHost(t, testConfig(t), p)
	p.loops[0].Post(armN{n})
	<-turned
	if got := h.QueueStats().Timers; got != (QueueFigures{Length: n, HighWater: n}) {
		t.Fatalf("armed: %+v, want length and high-water %d", got, n)
	}
	p.loops[0].Post(stopAll{})
	<-turned
	if got := h.QueueStats().Timers; got != (QueueFigures{Length: 0, HighWater: n}) {
		t.Fatalf("stopped: %+v, want length 0, high-water %d", got, n)
	}
}
