package sim

import (
	"time"

	"github.com/jindou-im/jindou/runtime"
)

// loop implements runtime.Loop for a process's loop (inc != nil) or for a
// client actor (inc == nil).
type loop struct {
	s    *Sim
	node runtime.NodeID
	name string
	h    runtime.Handler
	// inc is the process incarnation the loop belongs to; once it is dead
	// the loop's events are discarded.
	inc *incarnation
	// clock converts the loop's local durations to virtual ones; nil for
	// actors, which live in virtual time.
	clock *clock
	// dirty holds the connections written during the current turn, in
	// first-write order; they are flushed when the turn ends.
	dirty []*conn
}

func (l *loop) Name() string { return l.name }

func (l *loop) alive() bool { return l.inc == nil || !l.inc.dead }

// deliver schedules ev for the loop's handler at virtual time at. extra, if
// set, must also hold for the event to run.
func (l *loop) deliver(at time.Duration, ev runtime.Event, extra func() bool) {
	kind := ev.Kind()
	if p, ok := ev.(runtime.Posted); ok {
		kind = "post:" + p.Msg.Kind()
	}
	alive := l.alive
	if extra != nil {
		alive = func() bool { return l.alive() && extra() }
	}
	l.s.schedule(&event{
		at: at, node: l.node, loop: l.name, kind: kind, digest: digestOf(ev),
		alive: alive,
		fn:    func() { l.handle(ev) },
	})
}

// handle runs one turn: the event, then the flush of everything written.
func (l *loop) handle(ev runtime.Event) {
	l.h.Handle(ev)
	l.flush()
}

func (l *loop) flush() {
	for i, c := range l.dirty {
		c.flush()
		l.dirty[i] = nil
	}
	l.dirty = l.dirty[:0]
}

func (l *loop) Post(m runtime.Msg) {
	l.deliver(l.s.now, runtime.Posted{Msg: m}, nil)
}

type timer struct{ stopped, fired bool }

func (t *timer) Stop() bool {
	was := !t.stopped && !t.fired
	t.stopped = true
	return was
}

func (l *loop) After(d time.Duration, tag any) runtime.Timer {
	t := &timer{}
	if l.clock != nil {
		d = l.clock.toVirtual(d)
	}
	ev := runtime.TimerFired{Tag: tag}
	l.deliver(l.s.now+max(d, 0), ev, func() bool {
		if t.stopped {
			return false
		}
		t.fired = true
		return true
	})
	return t
}

// actor is a client-side participant living outside any process.
type actor struct{ loop }

// NewActor adds a client-side loop named name (unique among actors) whose
// events go to h. Simulated clients are actors: they dial processes, arm
// timers and post to themselves, in virtual time.
func (s *Sim) NewActor(name string, h runtime.Handler) runtime.Loop {
	if _, dup := s.actors[name]; dup {
		panic("sim: duplicate actor " + name)
	}
	a := &actor{loop{s: s, name: "actor/" + name, h: h}}
	s.actors[name] = a
	s.actorList = append(s.actorList, a)
	return &a.loop
}
