package reactor

import (
	"errors"
	"fmt"
	goruntime "runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jindou-im/jindou/internal/toy"
	"github.com/jindou-im/jindou/runtime"
)

type arm struct{}

func (arm) Kind() string { return "arm" }

// TestStoppedTimersNeverFire arms timers that fire, timers stopped at once,
// and a timer stopped after its event was already queued behind a busy turn:
// only the first kind is delivered, and Stop reports it correctly.
func TestStoppedTimersNeverFire(t *testing.T) {
	fired := make(chan string, 16)
	stops := make(chan string, 16)
	p := &testProc{n: 1}
	p.on = func(p *testProc, _ int, ev runtime.Event) {
		switch e := ev.(type) {
		case runtime.Posted:
			l := p.loops[0]
			l.After(time.Millisecond, "late")
			early := l.After(0, "queued")
			stopped := l.After(2*time.Millisecond, "stopped")
			l.After(3*time.Millisecond, "fires")
			stops <- fmt.Sprint("stopped:", stopped.Stop(), stopped.Stop())
			// This turn is busy until "queued" has fired into the queue.
			if !awaitQueued(early.(*timer)) {
				stops <- "queued: never reached the loop's queue"
				return
			}
			stops <- fmt.Sprint("queued:", early.Stop())
			// Timers fire in deadline order: once "last" is delivered,
			// every timer before it was delivered or never will be.
			l.After(4*time.Millisecond, "last")
		case runtime.TimerFired:
			fired <- e.Tag.(string)
		}
	}
	startHost(t, testConfig(t), p)
	p.loops[0].Post(arm{})
	for _, want := range []string{"stopped:true false", "queued:true"} {
		if got := <-stops; got != want {
			t.Fatalf("Stop results %q, want %q", got, want)
		}
	}
	var got []string
	for tag := ""; tag != "last"; {
		select {
		case tag = <-fired:
			got = append(got, tag)
		case <-time.After(testTimeout):
			t.Fatalf("timer \"last\" never fired (fired %v)", got)
		}
	}
	if strings.Join(got, ",") != "late,fires,last" {
		t.Fatalf("fired %v, want [late fires last]", got)
	}
}

// awaitQueued waits until tm's event is in its loop's queue, yielding
// meanwhile; false if that takes longer than testTimeout.
func awaitQueued(tm *timer) bool {
	deadline := time.Now().Add(testTimeout)
	for time.Now().Before(deadline) {
		tm.l.mu.Lock()
		queued := slices.ContainsFunc(tm.l.queue, func(it item) bool { return it.timer == tm })
		tm.l.mu.Unlock()
		if queued {
			return true
		}
		goruntime.Gosched()
	}
	return false
}

// TestIdleTimeoutTimersAreRearmedAndFire: a per-connection idle timer,
// stopped and re-armed on every read, closes the connection only once the
// client goes quiet. Reads re-arm it for an hour, so only a Stop that
// failed could let an old timer fire; the client's last line re-arms it
// for a millisecond, after which it must fire.
func TestIdleTimeoutTimersAreRearmedAndFire(t *testing.T) {
	timers := map[uint64]runtime.Timer{}
	p := &testProc{n: 1}
	p.on = func(p *testProc, _ int, ev runtime.Event) {
		switch e := ev.(type) {
		case runtime.ConnOpened:
			timers[e.Conn.ID()] = p.loops[0].After(time.Hour, e.Conn)
		case runtime.ConnData:
			if !timers[e.Conn.ID()].Stop() {
				e.Conn.Write([]byte("timer already fired\n"))
			}
			idle := time.Hour
			if strings.Contains(string(e.Data), "quiet") {
				idle = time.Millisecond
			}
			timers[e.Conn.ID()] = p.loops[0].After(idle, e.Conn)
			e.Conn.Write(e.Data)
		case runtime.TimerFired:
			c := e.Tag.(runtime.Conn)
			c.Write([]byte("idle\n"))
			c.Close()
		case runtime.ConnClosed:
			timers[e.Conn.ID()].Stop()
			delete(timers, e.Conn.ID())
		}
	}
	h := startHost(t, testConfig(t), p)
	c := dialTCP(t, h)
	for i := range 8 {
		c.send(fmt.Sprint("ping ", i)) // a Stop that failed would answer "timer already fired" here
		c.expect(fmt.Sprint("ping ", i))
	}
	c.send("quiet")
	c.expect("quiet")
	c.expect("idle")
	c.expectEOF()
}

type ping struct{ data string }

func (ping) Kind() string { return "ping" }

// TestPeerMessagesReachTheNamedLoop runs two hosts that exchange messages
// over the transport, including across a restart of the receiver; messages
// to unknown loops and unknown nodes are counted and dropped.
func TestPeerMessagesReachTheNamedLoop(t *testing.T) {
	got := make(chan string, 64)
	peerProc := func(id runtime.NodeID) *testProc {
		return &testProc{n: 1, on: func(p *testProc, _ int, ev runtime.Event) {
			switch e := ev.(type) {
			case runtime.PeerMsg:
				got <- fmt.Sprintf("%d->%d %s", e.From, id, e.Data)
				if string(e.Data) == "ping" {
					p.env.Transport().Send(e.From, "l0", []byte("pong"))
				}
			case runtime.Posted:
				m := e.Msg.(ping)
				p.env.Transport().Send(2, "l0", []byte(m.data))
			}
		}}
	}
	cfgA, cfgB := testConfig(t), testConfig(t)
	cfgA.PeerAddr, cfgB.PeerAddr = "127.0.0.1:0", "127.0.0.1:0"
	cfgB.NodeID = 2
	a, pa := New(cfgA), peerProc(1)
	if err := a.Start(pa); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Stop)
	b := New(cfgB)
	if err := b.Start(peerProc(2)); err != nil {
		t.Fatal(err)
	}
	a.SetPeer(2, b.PeerAddr().String())
	b.SetPeer(1, a.PeerAddr().String())

	pa.loops[0].Post(ping{"ping"})
	expectPeer(t, got, "1->2 ping")
	expectPeer(t, got, "2->1 pong")

	pa.env.Transport().Send(2, "nope", []byte("x"))
	pa.env.Transport().Send(3, "l0", []byte("x"))
	eventually(t, "unknown loop counted", func() bool { return b.Stats().PeerUnknownLoop == 1 })
	if a.Stats().PeerDropped < 1 {
		t.Fatalf("send to a node without address not counted: %+v", a.Stats())
	}

	// Restart the receiver on the same address: the sender reconnects.
	b.Stop()
	cfgB.PeerAddr = b.PeerAddr().String()
	b2 := New(cfgB)
	if err := b2.Start(peerProc(2)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b2.Stop)
	for i := 0; ; i++ {
		pa.loops[0].Post(ping{fmt.Sprint("again ", i)})
		select {
		case m := <-got:
			if !strings.HasPrefix(m, "1->2 again") {
				t.Fatalf("got %q", m)
			}
			return
		case <-time.After(20 * time.Millisecond):
		}
		if i > 200 {
			t.Fatal("sender never reconnected")
		}
	}
}

func expectPeer(t *testing.T, got chan string, want string) {
	t.Helper()
	select {
	case m := <-got:
		if m != want {
			t.Fatalf("got %q, want %q", m, want)
		}
	case <-time.After(testTimeout):
		t.Fatalf("timed out waiting for %q", want)
	}
}

// TestStopWithOpenConnectionsSaysGoodbyeAndLeaksNothing: Stop runs the
// process's Stop (whose writes reach the clients), closes every connection
// and leaves no goroutine behind.
func TestStopWithOpenConnectionsSaysGoodbyeAndLeaksNothing(t *testing.T) {
	before := goruntime.NumGoroutine()
	open := map[uint64]runtime.Conn{}
	p := &testProc{n: 1}
	p.on = func(_ *testProc, _ int, ev runtime.Event) {
		switch e := ev.(type) {
		case runtime.ConnData:
			open[e.Conn.ID()] = e.Conn
			e.Conn.Write(e.Data)
		case runtime.ConnClosed:
			delete(open, e.Conn.ID())
		}
	}
	p.stop = func(*testProc) {
		for _, c := range open {
			c.Write([]byte("bye\n"))
		}
	}
	cfg := testConfig(t)
	cfg.Reactors = 1
	cfg.PeerAddr = "127.0.0.1:0"
	cfg.Peers = map[runtime.NodeID]string{2: "127.0.0.1:1"}
	h := New(cfg)
	if err := h.Start(p); err != nil {
		t.Fatal(err)
	}
	p.env.Transport().Send(2, "l0", []byte("to nowhere")) // a dialler in backoff
	var tcps []*lineClient
	var wss []*wsClient
	for i := range 3 {
		c := dialTCP(t, h)
		c.send(fmt.Sprint("tcp ", i))
		c.expect(fmt.Sprint("tcp ", i))
		tcps = append(tcps, c)
		w := dialWS(t, h)
		w.send(fmt.Sprint("ws ", i))
		w.expectMessage(fmt.Sprintf("ws %d\n", i))
		wss = append(wss, w)
	}
	h.Stop()
	for _, c := range tcps {
		c.expect("bye")
		c.expectEOF()
	}
	for _, w := range wss {
		w.expectMessage("bye\n")
		w.expectClose()
	}
	h.Stop() // a second Stop is a no-op
	eventually(t, "goroutines to exit", func() bool { return goruntime.NumGoroutine() <= before })
}

// TestKillKeepsAcknowledgedAdditions crashes a host running the toy: what
// was acknowledged survives into the next host on the same directory, and
// nothing of the killed process leaks.
func TestKillKeepsAcknowledgedAdditions(t *testing.T) {
	before := goruntime.NumGoroutine()
	cfg := testConfig(t)
	h := New(cfg)
	if err := h.Start(toy.New(nil)); err != nil {
		t.Fatal(err)
	}
	c := dialTCP(t, h)
	c.send("add 40")
	c.expect("ok 40")
	c.send("add 2")
	c.expect("ok 42")
	h.Kill()
	c.expectEOF()
	eventually(t, "goroutines to exit", func() bool { return goruntime.NumGoroutine() <= before })

	restarted := toy.New(nil)
	startHost(t, cfg, restarted)
	if restarted.Recovered != 42 {
		t.Fatalf("recovered %d, want 42", restarted.Recovered)
	}
}

// TestStartFailureReleasesEverything: a listener that cannot bind fails
// Start with a named error and leaves nothing running.
func TestStartFailureReleasesEverything(t *testing.T) {
	busy := startHost(t, testConfig(t), &testProc{on: func(*testProc, int, runtime.Event) {}})
	before := goruntime.NumGoroutine()
	cfg := testConfig(t)
	cfg.WSAddr = busy.WSAddr().String()
	p := &testProc{on: func(*testProc, int, runtime.Event) {}}
	err := New(cfg).Start(p)
	var le *ListenError
	if !errors.As(err, &le) || le.Listener != "ws" || le.Addr != cfg.WSAddr {
		t.Fatalf("Start: %v, want a ListenError naming the ws listener and %s", err, cfg.WSAddr)
	}
	if p.env != nil {
		t.Fatal("the process was started although a listener failed")
	}
	eventually(t, "goroutines to exit", func() bool { return goruntime.NumGoroutine() <= before })
}
