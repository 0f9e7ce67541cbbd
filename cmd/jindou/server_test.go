package main

import (
	"bufio"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	jhttp "github.com/jindou-im/jindou/http"
	"github.com/jindou-im/jindou/internal/toy"
	"github.com/jindou-im/jindou/runtime/reactor"
)

// TestQueueStatsHandTheHostsFiguresToHTTP runs a host whose loop and disk
// writer have done work, then reads its queue figures through the func the
// binary gives the HTTP layer: every loop and every figure arrives as the
// host reports it.
func TestQueueStatsHandTheHostsFiguresToHTTP(t *testing.T) {
	h := reactor.New(reactor.Config{NodeID: 1, TCPAddr: "127.0.0.1:0", DataDir: t.TempDir(), Reactors: 1,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := h.Start(toy.New(nil)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Stop)
	c, err := net.Dial("tcp", h.TCPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, "add 5\n"); err != nil {
		t.Fatal(err)
	}
	// The answer comes after the addition's disk commit ran and its
	// completion was handled: both queues have held something.
	if line, err := bufio.NewReader(c).ReadString('\n'); err != nil || line != "ok 5\n" {
		t.Fatalf("toy answered %q, %v", line, err)
	}

	want := h.QueueStats()
	got := queueStats(h)()
	if want.Disk.HighWater < 1 || want.Disk.MaxBatch < 1 || want.Loops["main"].HighWater < 1 {
		t.Fatalf("the host's queues show no work: %+v", want)
	}
	if len(got.Loops) != len(want.Loops) {
		t.Fatalf("loops %v, want %v", got.Loops, want.Loops)
	}
	for name, f := range want.Loops {
		if got.Loops[name] != (jhttp.QueueFigures{Length: f.Length, HighWater: f.HighWater}) {
			t.Errorf("loop %s: %+v, want %+v", name, got.Loops[name], f)
		}
	}
	wantHTTP := jhttp.QueueStats{
		Loops:        got.Loops,
		Disk:         jhttp.QueueFigures{Length: want.Disk.Length, HighWater: want.Disk.HighWater},
		DiskMaxBatch: want.Disk.MaxBatch,
		Timers:       jhttp.QueueFigures{Length: want.Timers.Length, HighWater: want.Timers.HighWater},
	}
	if got.Disk != wantHTTP.Disk || got.DiskMaxBatch != wantHTTP.DiskMaxBatch || got.Timers != wantHTTP.Timers {
		t.Errorf("got %+v, want %+v", got, wantHTTP)
	}
}
