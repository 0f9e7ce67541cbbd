package sim_test

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/jindou-im/jindou/runtime"
	"github.com/jindou-im/jindou/sim"
)

// pushProc writes a numbered 1 KiB chunk to every open connection each
// millisecond and records why each closed.
type pushProc struct {
	loop   runtime.Loop
	conns  map[uint64]runtime.Conn
	next   uint32
	closed map[uint64]error
}

func (p *pushProc) Start(env runtime.Env) error {
	p.loop = env.NewLoop("main", p)
	p.conns, p.closed = map[uint64]runtime.Conn{}, map[uint64]error{}
	p.loop.After(time.Millisecond, "tick")
	return nil
}
func (p *pushProc) Accept(runtime.ConnInfo) runtime.Loop { return p.loop }
func (p *pushProc) Stop()                                {}
func (p *pushProc) Kill()                                {}
func (p *pushProc) Handle(ev runtime.Event) {
	switch e := ev.(type) {
	case runtime.ConnOpened:
		p.conns[e.Conn.ID()] = e.Conn
	case runtime.ConnClosed:
		delete(p.conns, e.Conn.ID())
		p.closed[e.Conn.ID()] = e.Err
	case runtime.TimerFired:
		chunk := make([]byte, 1024)
		binary.BigEndian.PutUint32(chunk, p.next)
		p.next++
		for _, c := range p.conns {
			c.Write(chunk)
		}
		p.loop.After(time.Millisecond, "tick")
	}
}

// reader is a client actor that checks the chunks come in order.
type reader struct {
	t        *testing.T
	conn     runtime.Conn
	buf      []byte
	first    int64
	last     int64
	chunks   int
	closeErr error
}

func (r *reader) Handle(ev runtime.Event) {
	switch e := ev.(type) {
	case runtime.ConnData:
		r.buf = append(r.buf, e.Data...)
		for len(r.buf) >= 1024 {
			n := int64(binary.BigEndian.Uint32(r.buf))
			if r.chunks == 0 {
				r.first = n
			} else if n != r.last+1 {
				r.t.Errorf("chunk %d after %d", n, r.last)
			}
			r.last, r.chunks, r.buf = n, r.chunks+1, r.buf[1024:]
		}
	case runtime.ConnClosed:
		r.closeErr = e.Err
	}
}

func pushWorld(t *testing.T, b runtime.OutputBudget, readers int) (*sim.Sim, *pushProc, []*reader) {
	s := sim.New(sim.Config{Seed: 3})
	s.SetOutputBudget(b)
	p := &pushProc{}
	s.AddProcess(1, func() runtime.Process { return p }).Start()
	var rs []*reader
	for i := range readers {
		r := &reader{t: t}
		loop := s.NewActor("reader-"+string(rune('a'+i)), r)
		r.conn = s.Dial(loop, 1, "tcp")
		rs = append(rs, r)
	}
	return s, p, rs
}

func TestAClientThatStopsReadingIsCutOverItsOutputCapAndTheOthersAreNot(t *testing.T) {
	s, p, rs := pushWorld(t, runtime.OutputBudget{PerConn: 32 << 10}, 2)
	s.At(20*time.Millisecond, "pause", func() { s.StopReading(rs[0].conn) })
	if err := s.Run(200 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if got := p.closed[rs[0].conn.ID()]; got != runtime.ErrSlowReader {
		t.Fatalf("the paused reader's server end closed with %v, want runtime.ErrSlowReader", got)
	}
	if rs[0].closeErr != sim.ErrConnReset || s.Stats().OutputCutsConn != 1 {
		t.Fatalf("the paused client saw %v; %d cuts", rs[0].closeErr, s.Stats().OutputCutsConn)
	}
	if _, cut := p.closed[rs[1].conn.ID()]; cut || rs[1].chunks < 150 {
		t.Fatalf("the reader that reads: cut %v, %d chunks", cut, rs[1].chunks)
	}
}

func TestAPausedClientThatResumesGetsWhatWasHeldInOrder(t *testing.T) {
	s, p, rs := pushWorld(t, runtime.OutputBudget{PerConn: 64 << 10}, 1)
	s.At(20*time.Millisecond, "pause", func() { s.StopReading(rs[0].conn) })
	s.At(60*time.Millisecond, "resume", func() { s.ResumeReading(rs[0].conn) })
	if err := s.Run(100 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if len(p.closed) != 0 || rs[0].chunks < 90 {
		t.Fatalf("closed %v; %d chunks, want about 100 with none lost", p.closed, rs[0].chunks)
	}
	if int(rs[0].last-rs[0].first)+1 != rs[0].chunks {
		t.Fatalf("%d chunks from number %d to %d: some were lost", rs[0].chunks, rs[0].first, rs[0].last)
	}
}

func TestPastTheTotalOutputBudgetTheHeavyDebtorsAreCut(t *testing.T) {
	s, p, rs := pushWorld(t, runtime.OutputBudget{PerConn: 64 << 10, Total: 40 << 10}, 3)
	s.At(20*time.Millisecond, "pause", func() {
		s.StopReading(rs[0].conn)
		s.StopReading(rs[1].conn)
	})
	if err := s.Run(200 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	for _, r := range rs[:2] {
		if got := p.closed[r.conn.ID()]; got != runtime.ErrOutputBudget {
			t.Fatalf("a paused reader closed with %v, want runtime.ErrOutputBudget", got)
		}
	}
	if _, cut := p.closed[rs[2].conn.ID()]; cut || s.Stats().OutputCutsTotal != 2 {
		t.Fatalf("the reader that reads cut %v; %d budget cuts", cut, s.Stats().OutputCutsTotal)
	}
}
