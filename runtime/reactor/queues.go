package reactor

import (
	"sync/atomic"

	"github.com/jindou-im/jindou/runtime"
)

// The host's queues are unbounded on purpose: a loop's queue carries SENDs,
// raft messages and disk completions, and the disk writer's carries commits
// a client is waiting on; a bound would have to drop one of them, which the
// core is not built to survive. What backs them up is visible instead: each
// queue keeps its current length and its high-water mark, read by
// Host.QueueStats (and shown by /varz and /metrics).

// QueueStats are the host's queue figures.
type QueueStats struct {
	// Loops are the loops' event queues, by loop name.
	Loops map[string]QueueFigures
	// Disk is the disk writer's queue of commits.
	Disk DiskQueueFigures
	// Timers is the timer heap: every armed timer of every loop, and the
	// linger deadline of every closing connection.
	Timers QueueFigures
}

// QueueFigures are one queue's current length and the most it ever held.
// For a loop, the length counts events posted and not yet started: the
// event being handled is no longer waiting.
type QueueFigures struct {
	Length, HighWater int64
}

// DiskQueueFigures are the disk writer's: commits submitted and not yet
// started, the most that ever waited, and the largest batch taken at once
// and run back to back (a group commit).
type DiskQueueFigures struct {
	Length, HighWater, MaxBatch int64
}

// queueGauge tracks a queue's length and high-water mark with atomics, so
// that reading them takes no lock. Increments must be serialized by the
// queue's own lock (which the producer holds anyway to append): the
// high-water mark's load-compare-store then has one writer at a time.
// Decrements may run without it, from the consumer: they never raise the
// length, so they cannot make a high-water mark missed.
type queueGauge struct {
	length, high atomic.Int64
}

// addLocked adds n queued entries; the caller holds the queue's lock.
func (g *queueGauge) addLocked(n int64) {
	v := g.length.Add(n)
	if v > g.high.Load() {
		g.high.Store(v)
	}
}

// setLocked sets the length to n; the caller holds the queue's lock, and
// every change of the length goes through it.
func (g *queueGauge) setLocked(n int64) {
	g.length.Store(n)
	if n > g.high.Load() {
		g.high.Store(n)
	}
}

// taken removes n entries, taken by the consumer or dropped.
func (g *queueGauge) taken(n int64) {
	if n != 0 {
		g.length.Add(-n)
	}
}

func (g *queueGauge) figures() QueueFigures {
	return QueueFigures{Length: g.length.Load(), HighWater: g.high.Load()}
}

// queueGauges are the gauges of the host-wide queues. They live on the
// Host, not on the disk writer and the timer queue, so that QueueStats may
// read them before Start and after Stop without racing with Start creating
// those.
type queueGauges struct {
	disk queueGauge
	// diskMaxBatch is written by the disk writer's goroutine alone.
	diskMaxBatch atomic.Int64
	timers       queueGauge
	// diskCommit times the group commits (disk_latency.go).
	diskCommit durationHist
}

// QueueStats returns the current length and high-water mark of every queue
// of the host. It takes no lock a loop or the disk writer takes to queue or
// take work (only the loop registry's read lock), so it may be called as
// often as a scrape asks.
func (h *Host) QueueStats() QueueStats {
	h.loopsMu.RLock()
	loops := make(map[string]QueueFigures, len(h.loops))
	for name, l := range h.loops {
		loops[name] = l.queued.figures()
	}
	h.loopsMu.RUnlock()
	d := h.queues.disk.figures()
	return QueueStats{
		Loops:  loops,
		Disk:   DiskQueueFigures{Length: d.Length, HighWater: d.HighWater, MaxBatch: h.queues.diskMaxBatch.Load()},
		Timers: h.queues.timers.figures(),
	}
}

// The output budget (runtime.OutputBudget, shared with the simulator).
// What a socket refuses waits in its connection's backlog; a client that
// does not read lets it grow. Each connection may owe
// Config.MaxPendingOutput; all of them together Config.MaxTotalPendingOutput.
// The core's resend budget (node/budget.go, deterministic and simulated)
// decides on its own figures first; this one bounds what the core cannot
// see, the bytes the kernel has not taken.

// outputVerdict says whether a connection whose backlog just grew to
// backlog bytes, the host's to total, must be cut, counting the cut.
func (h *Host) outputVerdict(backlog int, total int64) error {
	err := runtime.OutputBudget{PerConn: h.cfg.MaxPendingOutput, Total: int64(h.cfg.MaxTotalPendingOutput)}.Verdict(backlog, total)
	switch err {
	case ErrSlowReader:
		h.stats.slowReaders.Add(1)
	case ErrOutputBudget:
		h.stats.budgetCuts.Add(1)
	}
	return err
}

// appendBacklog appends b to a backlog, growing it by at most half again
// (append would double it: a backlog near its cap would hold twice the
// cap in memory).
func appendBacklog(backlog, b []byte) []byte {
	need := len(backlog) + len(b)
	if need <= cap(backlog) {
		return append(backlog, b...)
	}
	grown := make([]byte, len(backlog), max(need, cap(backlog)+cap(backlog)/2, 4<<10))
	copy(grown, backlog)
	return append(grown, b...)
}
