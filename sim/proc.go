package sim

import (
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/jindou-im/jindou/runtime"
)

// Proc is a process slot of the simulated cluster: a node id with a disk and
// a clock that outlive crashes, and the incarnation currently running on
// them (none while the process is down).
type Proc struct {
	s       *Sim
	id      runtime.NodeID
	factory func() runtime.Process
	clock   clock
	disk    disk
	// inc is the running incarnation; nil while down.
	inc *incarnation
	// incs counts incarnations started; it names their random streams.
	incs int
}

// AddProcess adds process id, down, with an empty disk. factory makes a new
// Process for each start.
func (s *Sim) AddProcess(id runtime.NodeID, factory func() runtime.Process) *Proc {
	if id == 0 {
		panic("sim: node id 0")
	}
	if _, dup := s.procs[id]; dup {
		panic(fmt.Sprintf("sim: duplicate node %d", id))
	}
	p := &Proc{s: s, id: id, factory: factory}
	p.clock = clock{s: s, baseVirt: s.now}
	p.disk = newDisk(p)
	s.procs[id] = p
	s.procIDs = append(s.procIDs, id)
	slices.Sort(s.procIDs)
	return p
}

// Proc returns process id, or nil.
func (s *Sim) Proc(id runtime.NodeID) *Proc { return s.procs[id] }

// ProcIDs lists the processes in id order.
func (s *Sim) ProcIDs() []runtime.NodeID { return slices.Clone(s.procIDs) }

// ID is the process's node id.
func (p *Proc) ID() runtime.NodeID { return p.id }

// Up reports whether an incarnation is running.
func (p *Proc) Up() bool { return p.inc != nil }

// Incarnations counts the process's starts.
func (p *Proc) Incarnations() int { return p.incs }

// Process is the running incarnation's Process, or nil while down.
func (p *Proc) Process() runtime.Process {
	if p.inc == nil {
		return nil
	}
	return p.inc.proc
}

// FS is the process's current disk (after a crash, the clone).
func (p *Proc) FS() *vfs.MemFS { return p.disk.fs }

// Clock is the process's clock, as the process sees it.
func (p *Proc) Clock() runtime.Clock { return &p.clock }

// SkewWall moves the process's wall clock by d (a jump, either way).
func (p *Proc) SkewWall(d time.Duration) { p.clock.wallSkew += d }

// SetDrift makes the process's monotonic clock run ppm parts per million
// fast (or slow, if negative) from now on.
func (p *Proc) SetDrift(ppm int64) { p.clock.setDrift(ppm) }

// Start starts a new incarnation now. Starting a running process panics.
//
// If the process's Start fails, the incarnation is dead at once (whatever
// loops, timers or posts it made are discarded), the process stays down,
// and the error is returned and recorded as the run's failure: Run returns
// it. The failed Process is not killed: a Start that fails releases what it
// opened itself.
func (p *Proc) Start() error {
	if p.inc != nil {
		panic(fmt.Sprintf("sim: node %d already up", p.id))
	}
	p.incs++
	inc := &incarnation{p: p, n: p.incs, loops: map[string]*loop{}, conns: map[uint64]*conn{}}
	inc.proc = p.factory()
	p.inc = inc
	if p.incs > 1 {
		p.s.stats.Restarts++
	}
	p.s.trace.add(int64(p.s.now), p.id, "", "start", uint64(p.incs))
	if err := inc.proc.Start(inc); err != nil {
		inc.dead = true
		p.inc = nil
		for _, c := range inc.sortedConns() {
			c.cut(ErrConnReset)
		}
		err = fmt.Errorf("sim: node %d incarnation %d failed to start: %w", p.id, inc.n, err)
		p.s.fail(err)
		return err
	}
	return nil
}

// Stop stops the running incarnation gracefully: the process's Stop runs,
// what it wrote is flushed, then its remaining connections are closed. A
// disk hold ends; the commits it held are discarded with the incarnation.
func (p *Proc) Stop() {
	inc := p.mustBeUp()
	p.s.trace.add(int64(p.s.now), p.id, "", "stop", 0)
	inc.proc.Stop()
	for _, l := range inc.sortedLoops() {
		l.flush()
	}
	for _, c := range inc.sortedConns() {
		c.Close()
	}
	inc.dead = true
	p.inc = nil
	p.disk.endHold()
}

// Crash kills the running incarnation at once: its connections are cut,
// pending timers, posts and disk commits (held ones too, and the hold ends:
// see HoldDisk) are lost, and its disk becomes a crash clone that keeps
// keepPct percent of the unsynced data (see crashClone). The process is
// down until Start.
func (p *Proc) Crash(keepPct int) {
	inc := p.mustBeUp()
	p.s.stats.Crashes++
	p.s.trace.add(int64(p.s.now), p.id, "", "crash", uint64(keepPct))
	inc.dead = true
	p.inc = nil
	for _, c := range inc.sortedConns() {
		c.cut(ErrConnReset)
	}
	old := p.disk.fs
	p.disk.fs = crashClone(old, keepPct, p.s.streamSeedU64(fmt.Sprintf("crash/%d/%d", p.id, inc.n)))
	p.disk.last = p.s.now
	p.disk.endHold()
	inc.proc.Kill()
}

func (p *Proc) mustBeUp() *incarnation {
	if p.inc == nil {
		panic(fmt.Sprintf("sim: node %d is down", p.id))
	}
	return p.inc
}

// incarnation is one run of a process, from Start to Stop or Crash. It is
// the runtime.Env the process sees; once dead, every effect it attempts is
// discarded.
type incarnation struct {
	p     *Proc
	n     int
	proc  runtime.Process
	dead  bool
	loops map[string]*loop
	// conns are its server-side connections still open.
	conns map[uint64]*conn
}

func (inc *incarnation) Node() runtime.NodeID { return inc.p.id }
func (inc *incarnation) Clock() runtime.Clock { return &inc.p.clock }
func (inc *incarnation) Disk() runtime.Disk   { return incDisk{inc} }
func (inc *incarnation) Log() *slog.Logger {
	return inc.p.s.log.With("node", uint64(inc.p.id), "incarnation", inc.n)
}
func (inc *incarnation) Transport() runtime.Transport {
	return transport{inc}
}

func (inc *incarnation) Rand(name string) runtime.Rand {
	return inc.p.s.Rand(fmt.Sprintf("node/%d/%d/%s", inc.p.id, inc.n, name))
}

func (inc *incarnation) NewLoop(name string, h runtime.Handler) runtime.Loop {
	if _, dup := inc.loops[name]; dup {
		panic(fmt.Sprintf("sim: node %d: duplicate loop %q", inc.p.id, name))
	}
	l := &loop{s: inc.p.s, node: inc.p.id, name: name, h: h, inc: inc, clock: &inc.p.clock}
	inc.loops[name] = l
	return l
}

func (inc *incarnation) sortedLoops() []*loop {
	names := slices.Sorted(maps.Keys(inc.loops))
	out := make([]*loop, len(names))
	for i, n := range names {
		out[i] = inc.loops[n]
	}
	return out
}

func (inc *incarnation) sortedConns() []*conn {
	ids := slices.Sorted(maps.Keys(inc.conns))
	out := make([]*conn, len(ids))
	for i, id := range ids {
		out[i] = inc.conns[id]
	}
	return out
}
