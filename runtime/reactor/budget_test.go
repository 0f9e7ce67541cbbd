package reactor

import (
	"errors"
	"io"
	"testing"
	"time"
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
