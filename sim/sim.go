package sim

import (
	"container/heap"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jindou-im/jindou/runtime"
)

// ErrLivelock is returned by Run when a run executes more events than its
// bound allows without reaching its deadline.
var ErrLivelock = errors.New("sim: event bound exceeded (livelock?)")

// Config sets up a run.
type Config struct {
	// Seed is the root seed; every random stream derives from it.
	Seed uint64
	// MaxEvents bounds one call of Run; 0 means 50 million.
	MaxEvents int64
	// Epoch is the wall time at virtual time 0; zero means 2026-01-01 UTC.
	Epoch time.Time
	// Log receives what hosted processes log; nil discards it.
	Log *slog.Logger
}

// Sim is one simulated world. All its methods must be called from the
// goroutine that runs it (the test's), never concurrently.
type Sim struct {
	seed      uint64
	maxEvents int64
	epoch     time.Time
	log       *slog.Logger

	// now is virtual time; it only moves forward, to each event's time.
	now time.Duration
	// seq numbers scheduled events; (at, seq) orders the heap.
	seq    uint64
	events eventHeap
	trace  tracer

	procs   map[runtime.NodeID]*Proc
	procIDs []runtime.NodeID // sorted
	links   map[linkKey]*link
	// defaultLink configures links not set explicitly.
	defaultLink LinkConfig
	connCfg     ConnConfig

	nextConnID uint64
	actors     map[string]*actor
	actorList  []*actor // in creation order

	// outbound is the network to the external endpoint; made on first use.
	outbound *outboundState

	// err is the first failure of a hosted process (a failed Start); Run
	// returns it.
	err   error
	stats Stats
	// output is the output budget of the server ends, sockBuf what a
	// paused client's socket takes plus one (0: the default; output.go).
	output  runtime.OutputBudget
	sockBuf int
}

// Stats counts what happened in a run.
type Stats struct {
	Events          int64
	PeerSent        int64
	PeerDropped     int64 // lost to the link's loss rate
	PeerBlocked     int64 // lost to a partition
	PeerDuplicated  int64
	PeerUndelivered int64 // arrived at a process that was down or had no such loop
	ConnBytes       int64
	ConnCuts        int64
	// OutputCutsConn and OutputCutsTotal count the server ends cut for
	// their output (output.go): over their own cap, over the budget of
	// all.
	OutputCutsConn, OutputCutsTotal int64
	DiskCommits                     int64
	DiskErrors                      int64
	// DiskFullRefused counts commits that completed on a full disk
	// (Proc.FillDisk) and failed with ErrNoSpace.
	DiskFullRefused int64
	Crashes         int64
	Restarts        int64
	// OutboundCalls counts outbound calls; OutboundFailures those that got
	// no answer (refused or timed out).
	OutboundCalls, OutboundFailures int64
}

// New makes an empty world.
func New(cfg Config) *Sim {
	s := &Sim{
		seed:        cfg.Seed,
		maxEvents:   cfg.MaxEvents,
		epoch:       cfg.Epoch,
		log:         cfg.Log,
		trace:       newTracer(),
		procs:       map[runtime.NodeID]*Proc{},
		links:       map[linkKey]*link{},
		actors:      map[string]*actor{},
		defaultLink: DefaultLinkConfig(),
		connCfg:     DefaultConnConfig(),
	}
	if s.maxEvents == 0 {
		s.maxEvents = 50_000_000
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.epoch.IsZero() {
		s.epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return s
}

// Seed is the run's root seed.
func (s *Sim) Seed() uint64 { return s.seed }

// Now is the virtual time.
func (s *Sim) Now() time.Duration { return s.now }

// TraceHash is the rolling hash of every event executed so far.
func (s *Sim) TraceHash() uint64 { return s.trace.h }

// Stats reports the run's counters.
func (s *Sim) Stats() Stats { return s.stats }

// event is one scheduled thing. fn runs when it is popped; if alive is set
// and reports false by then, the event is discarded unexecuted and unhashed.
type event struct {
	at     time.Duration
	seq    uint64
	node   runtime.NodeID // 0 for the simulator and client actors
	loop   string
	kind   string
	digest uint64
	alive  func() bool
	fn     func()
}

type eventHeap []*event

func (h eventHeap) Len() int { return len(h) }
func (h eventHeap) Less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	return h[i].seq < h[j].seq
}
func (h eventHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *eventHeap) Push(x any)   { *h = append(*h, x.(*event)) }
func (h *eventHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return e
}

func (s *Sim) schedule(e *event) {
	if e.at < s.now {
		panic(fmt.Sprintf("sim: event %s scheduled in the past (%v < %v)", e.kind, e.at, s.now))
	}
	s.seq++
	e.seq = s.seq
	heap.Push(&s.events, e)
}

// At runs fn at virtual time at (or now, if at has passed), as an event of
// the simulator itself named name. Tests use it to script faults and checks.
// What fn writes to client connections is flushed when it returns, as at
// the end of a loop turn.
func (s *Sim) At(at time.Duration, name string, fn func()) {
	s.schedule(&event{at: max(at, s.now), kind: "sim:" + name, fn: func() {
		fn()
		s.flushActors()
	}})
}

// flushActors sends what code outside any loop turn (a scripted action, or
// the test between runs) wrote to client connections.
func (s *Sim) flushActors() {
	for _, a := range s.actorList {
		a.flush()
	}
}

// After runs fn after d of virtual time; see At.
func (s *Sim) After(d time.Duration, name string, fn func()) { s.At(s.now+d, name, fn) }

// step executes the next event; it reports false when there is none.
func (s *Sim) step() bool {
	if len(s.events) == 0 {
		return false
	}
	e := heap.Pop(&s.events).(*event)
	if e.alive != nil && !e.alive() {
		return true
	}
	s.now = e.at
	s.stats.Events++
	s.trace.add(int64(e.at), e.node, e.loop, e.kind, e.digest)
	e.fn()
	return true
}

// Run executes events up to and including virtual time deadline, then
// leaves the clock at deadline. It stops early when no event is left
// (quiescence). It fails with ErrLivelock when it executes more than the
// configured bound of events, and with the first error of a hosted process.
//
// What the test wrote to client connections since the last run is sent
// first, at the current virtual time.
func (s *Sim) Run(deadline time.Duration) error {
	if s.err != nil {
		return s.err
	}
	s.flushActors()
	var n int64
	for len(s.events) > 0 && s.events[0].at <= deadline {
		if n >= s.maxEvents {
			return fmt.Errorf("%w: %d events by %v", ErrLivelock, n, s.now)
		}
		s.step()
		n++
		if s.err != nil {
			return s.err
		}
	}
	if deadline > s.now {
		s.now = deadline
	}
	return nil
}

// RunFor runs for d of virtual time; see Run.
func (s *Sim) RunFor(d time.Duration) error { return s.Run(s.now + d) }

// RunUntilIdle runs until no event is left; it fails with ErrLivelock if
// that takes more than the event bound (a periodic timer never goes idle).
func (s *Sim) RunUntilIdle() error {
	if s.err != nil {
		return s.err
	}
	s.flushActors()
	var n int64
	for len(s.events) > 0 {
		if n >= s.maxEvents {
			return fmt.Errorf("%w: %d events by %v", ErrLivelock, n, s.now)
		}
		s.step()
		n++
		if s.err != nil {
			return s.err
		}
	}
	return nil
}

// fail records the first failure of the run.
func (s *Sim) fail(err error) {
	if s.err == nil {
		s.err = err
	}
}
