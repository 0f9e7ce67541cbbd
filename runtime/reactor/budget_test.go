package reactor

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/jindou-im/jindou/runtime"
)

// TestTheOutputBudgetCutsTheReaderThatOwesAndSparesTheOneThatReads: with
// two connections blasted at, the one that never reads is cut once the
// host's backlog passes MaxTotalPendingOutput (long before its own cap);
// the one that reads gets every byte, and the host owes nothing after.
func TestTheOutputBudgetCutsTheReaderThatOwesAndSparesTheOneThatReads(t *testing.T) {
	const total = 32 << 20
	cfg := testConfig(t)
	cfg.MaxPendingOutput, cfg.MaxTotalPendingOutput = 64<<20, 2<<20
	p, wrote, closed := blaster(total, 64<<10, 4)
	h := startHost(t, cfg, p)
	reader := dialTCP(t, h)
	reader.send("go")
	got := make(chan int64, 1)
	go func() {
		n, _ := io.Copy(io.Discard, io.LimitReader(reader.conn, total))
		got <- n
	}()
	<-wrote // the reader's blast is written (its backlog drains as it reads)
	dialTCP(t, h).send("go")
	select {
	case err := <-closed:
		if !errors.Is(err, ErrOutputBudget) {
			t.Fatalf("closed with %v, want ErrOutputBudget", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("the reader that never reads was never cut")
	}
	if n := <-got; n != total {
		t.Fatalf("the reading client got %d bytes of %d", n, total)
	}
	s := h.Stats()
	if s.BudgetCuts != 1 || s.SlowReaders != 0 || s.PendingOutput != 0 {
		t.Fatalf("stats %+v: want one budget cut, no cap cut, nothing owed", s)
	}
}

// TestABacklogGrowsByHalvesNotDoubling: a backlog near its cap holds at
// most half again what it needs.
func TestABacklogGrowsByHalvesNotDoubling(t *testing.T) {
	var b []byte
	chunk := make([]byte, 3000)
	for range 1000 {
		b = appendBacklog(b, chunk)
		if cap(b) > len(b)+len(b)/2+len(chunk)+4<<10 {
			t.Fatalf("len %d cap %d: grew by more than half", len(b), cap(b))
		}
	}
	if len(b) != 3000*1000 {
		t.Fatalf("len %d", len(b))
	}
}

// TestAClosedConnectionFarBehindIsNotLingeredOn: Close on a connection
// that owes a quarter of its cap or more closes it at once (the memory
// is freed), instead of lingering CloseLinger for a client that does not
// read.
func TestAClosedConnectionFarBehindIsNotLingeredOn(t *testing.T) {
	cfg := testConfig(t)
	cfg.MaxPendingOutput, cfg.CloseLinger = 32<<20, time.Minute
	closed := make(chan error, 1)
	p := &testProc{n: 1}
	p.on = func(_ *testProc, _ int, ev runtime.Event) {
		switch e := ev.(type) {
		case runtime.ConnData:
			e.Conn.Write(make([]byte, 20<<20)) // the kernel takes at most 4 MiB of it
			e.Conn.Close()
		case runtime.ConnClosed:
			closed <- e.Err
		}
	}
	h := startHost(t, cfg, p)
	c := dialTCP(t, h)
	if tc, ok := c.conn.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4 << 10)
	}
	c.send("go")
	select {
	case err := <-closed:
		if err != nil {
			t.Fatalf("closed with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a connection owing megabytes lingered after Close")
	}
	if s := h.Stats(); s.PendingOutput != 0 {
		t.Fatalf("%d bytes still owed after the close", s.PendingOutput)
	}
}
