package reactor

import (
	"container/heap"
	"sync"
	"time"
)

// timerQueue holds every armed timer of a host in a min-heap of deadlines,
// served by one goroutine that sleeps until the earliest one. Arming and
// stopping are O(log n) under one mutex; an idle connection's timer costs a
// heap slot, not a runtime timer.
//
// DESIGN.md names a timing wheel; a heap is used instead because it sleeps
// exactly until the next deadline (a wheel with 10k timers spread over its
// slots wakes every tick) and removes in O(log n) without tombstones.
//
// The heap has no bound: it holds what the process armed (a few timers per
// connection and per slot), and refusing to arm one would silently lose a
// timeout. Its size and high-water mark are in Host.QueueStats.
type timerQueue struct {
	origin time.Time

	mu sync.Mutex
	// h is the heap; guarded by mu. Each entry knows its index.
	h entryHeap
	// size is the host's gauge of len(h), set under mu.
	size *queueGauge

	// wake has a token when a new earliest deadline was armed.
	wake       chan struct{}
	stop, done chan struct{}
}

// timerEntry is one armed deadline. fire runs on the queue's goroutine and
// must not block.
type timerEntry struct {
	when time.Duration
	fire func()
	// index is the entry's place in the heap, -1 when not armed; guarded
	// by the queue's mu.
	index int
}

func startTimerQueue(size *queueGauge) *timerQueue {
	q := &timerQueue{
		origin: time.Now(),
		size:   size,
		wake:   make(chan struct{}, 1),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	go q.serve()
	return q
}

// now is the queue's monotonic time.
func (q *timerQueue) now() time.Duration { return time.Since(q.origin) }

// add arms e to fire at when.
func (q *timerQueue) add(e *timerEntry, when time.Duration) {
	q.mu.Lock()
	e.when = when
	heap.Push(&q.h, e)
	q.size.setLocked(int64(len(q.h)))
	earliest := e.index == 0
	q.mu.Unlock()
	if earliest {
		select {
		case q.wake <- struct{}{}:
		default:
		}
	}
}

// remove disarms e; it reports whether e was armed.
func (q *timerQueue) remove(e *timerEntry) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if e.index < 0 {
		return false
	}
	heap.Remove(&q.h, e.index)
	q.size.setLocked(int64(len(q.h)))
	return true
}

func (q *timerQueue) serve() {
	defer close(q.done)
	sleep := time.NewTimer(time.Hour)
	defer sleep.Stop()
	var due []*timerEntry
	for {
		due = q.pop(due[:0])
		for i, e := range due {
			e.fire()
			due[i] = nil
		}
		q.mu.Lock()
		wait := time.Duration(-1)
		if len(q.h) > 0 {
			wait = max(q.h[0].when-q.now(), 0)
		}
		q.mu.Unlock()
		if wait == 0 {
			continue
		}
		var c <-chan time.Time
		if wait > 0 {
			sleep.Reset(wait)
			c = sleep.C
		}
		select {
		case <-q.stop:
			return
		case <-q.wake:
		case <-c:
		}
	}
}

// pop removes and appends to due every entry whose deadline has passed.
func (q *timerQueue) pop(due []*timerEntry) []*timerEntry {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.now()
	for len(q.h) > 0 && q.h[0].when <= now {
		due = append(due, heap.Pop(&q.h).(*timerEntry))
	}
	q.size.setLocked(int64(len(q.h)))
	return due
}

// close stops the goroutine; armed timers never fire.
func (q *timerQueue) close() {
	select {
	case <-q.stop:
	default:
		close(q.stop)
	}
	<-q.done
}

// entryHeap is a container/heap of entries ordered by deadline.
type entryHeap []*timerEntry

func (h entryHeap) Len() int           { return len(h) }
func (h entryHeap) Less(i, j int) bool { return h[i].when < h[j].when }
func (h entryHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}

func (h *entryHeap) Push(x any) {
	e := x.(*timerEntry)
	e.index = len(*h)
	*h = append(*h, e)
}

func (h *entryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	e.index = -1
	return e
}
