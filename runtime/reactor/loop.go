package reactor

import (
	"sync"
	"time"

	"github.com/jindou-im/jindou/runtime"
)

// loop is a runtime.Loop: a goroutine draining an unbounded queue, one event
// per turn, flushing the connections written during the turn at its end.
// The queue is unbounded because what it carries cannot be dropped (see
// queues.go); its length and high-water mark are in Host.QueueStats.
type loop struct {
	h       *Host
	name    string
	handler runtime.Handler

	mu sync.Mutex
	// queue holds the events posted and not yet taken; guarded by mu.
	queue []item
	// quitting: posts are dropped; guarded by mu.
	quitting bool
	// started: the goroutine was started; guarded by mu.
	started bool
	// queued counts the posted events not yet started (increments under
	// mu, decrements by the loop's goroutine as it starts each event).
	queued queueGauge

	// wake has a token when queue may have become non-empty.
	wake chan struct{}
	// stop is closed to end the goroutine; done is closed when it has.
	stop, done chan struct{}

	// spare is the previous batch's array, reused; loop-owned.
	spare []item
	// dirty are the connections written during this turn, in first-write
	// order; loop-owned.
	dirty []flusher
}

// item is one queued event, or a request to park.
type item struct {
	ev runtime.Event
	// timer, if set, is the timer ev fires; it is dropped if stopped.
	timer *timer
	// conn, if set, is the connection a ConnClosed ev ends.
	conn closer
	// park, if set, makes the loop park (see park).
	park *sync.WaitGroup
}

// flusher is a connection with output buffered in the current turn.
type flusher interface{ flush() }

// closer is the loop-side end of a connection's life.
type closer interface{ closedByEvent() }

func newLoop(h *Host, name string, handler runtime.Handler) *loop {
	return &loop{
		h: h, name: name, handler: handler,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
}

func (l *loop) Name() string { return l.name }

func (l *loop) Post(m runtime.Msg) { l.post(item{ev: runtime.Posted{Msg: m}}) }

// post enqueues it; it never blocks and never drops while the loop lives.
func (l *loop) post(it item) {
	l.mu.Lock()
	if l.quitting {
		l.mu.Unlock()
		return
	}
	l.queue = append(l.queue, it)
	l.queued.addLocked(1)
	first := len(l.queue) == 1
	l.mu.Unlock()
	if first {
		select {
		case l.wake <- struct{}{}:
		default:
		}
	}
}

// run starts the loop's goroutine.
func (l *loop) run() {
	l.mu.Lock()
	l.started = true
	l.mu.Unlock()
	l.h.wg.Add(1)
	go func() {
		defer l.h.wg.Done()
		defer close(l.done)
		l.serve()
	}()
}

func (l *loop) serve() {
	for {
		select {
		case <-l.stop:
			return
		case <-l.wake:
		}
		for {
			l.mu.Lock()
			batch := l.queue
			if len(batch) == 0 {
				l.mu.Unlock()
				break
			}
			// The queue and the spare array alternate; never the same.
			l.queue = l.spare[:0]
			l.mu.Unlock()
			for i := range batch {
				if batch[i].park != nil {
					l.flush()
					batch[i].park.Done()
					<-l.stop
					return
				}
				// Counted before the turn, so that once a handler
				// has seen an event, the length no longer counts it.
				l.queued.taken(1)
				l.turn(batch[i])
				batch[i] = item{}
			}
			// Output leaves once per batch of events, not once per event:
			// a burst of SENDACKs and RECVs to one connection is one
			// write(2).
			l.flush()
			l.spare = batch[:0]
		}
	}
}

// turn handles one event; serve flushes what it wrote after the batch.
func (l *loop) turn(it item) {
	if it.timer != nil {
		if it.timer.stopped {
			return
		}
		it.timer.fired = true
	}
	if it.conn != nil {
		it.conn.closedByEvent()
	}
	l.handler.Handle(it.ev)
}

// flush flushes the connections written during the turn.
func (l *loop) flush() {
	for i, c := range l.dirty {
		c.flush()
		l.dirty[i] = nil
	}
	l.dirty = l.dirty[:0]
}

// park makes the loop finish its current turn, then signal parked and wait
// for quit. Events queued behind are never handled. A loop whose goroutine
// never started is parked already.
func (l *loop) park(parked *sync.WaitGroup) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.started {
		parked.Done()
		return
	}
	l.queue = append(l.queue, item{park: parked})
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// quit ends the loop's goroutine and drops everything queued.
func (l *loop) quit() {
	l.mu.Lock()
	if l.quitting {
		l.mu.Unlock()
		return
	}
	l.quitting = true
	l.queue = nil
	started := l.started
	l.mu.Unlock()
	close(l.stop)
	if started {
		<-l.done
	}
	// Nothing waits any more: what was queued is dropped, and no post
	// counts after quitting nor the goroutine after done.
	l.queued.length.Store(0)
}

// After arms a timer on the host's timer queue; it fires as an event on l.
func (l *loop) After(d time.Duration, tag any) runtime.Timer {
	t := &timer{l: l, entry: timerEntry{index: -1}}
	ev := runtime.TimerFired{Tag: tag}
	t.entry.fire = func() { l.post(item{ev: ev, timer: t}) }
	l.h.timers.add(&t.entry, l.h.timers.now()+max(d, 0))
	return t
}

// timer is a loop's armed timer.
type timer struct {
	l     *loop
	entry timerEntry
	// stopped and fired are loop-owned: set by Stop and by the turn that
	// delivers the event, so a stopped timer's event is never delivered.
	stopped, fired bool
}

// Stop cancels the timer. Call it only from the loop that armed it.
func (t *timer) Stop() bool {
	if t.stopped || t.fired {
		return false
	}
	t.stopped = true
	t.l.h.timers.remove(&t.entry)
	return true
}
