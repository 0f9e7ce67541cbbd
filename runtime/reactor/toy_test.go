package reactor

import (
	"fmt"
	"testing"
	"time"

	"github.com/jindou-im/jindou/internal/toy"
)

// TestToyAddsAreAckedAfterSyncAndSurviveRestart hosts the toy counter and
// drives it over TCP and WebSocket; a new host on the same data directory
// recovers every acknowledged addition.
func TestToyAddsAreAckedAfterSyncAndSurviveRestart(t *testing.T) {
	cfg := testConfig(t)
	first := New(cfg)
	c1 := toy.New(nil)
	if err := first.Start(c1); err != nil {
		t.Fatal(err)
	}
	tcp := dialTCP(t, first)
	tcp.send("add 5")
	tcp.expect("ok 5")
	tcp.send("add 7")
	tcp.expect("ok 12")
	ws := dialWS(t, first)
	ws.send("add 3")
	ws.expectMessage("ok 15\n")
	// Several lines in one message, and one line across two messages.
	ws.sendRaw("add 1\nadd 1\n")
	ws.expectMessage("ok 16\n")
	ws.expectMessage("ok 17\n")
	ws.sendRaw("add ")
	ws.sendRaw("2\n")
	ws.expectMessage("ok 19\n")
	ws.send("nonsense")
	ws.expectMessage("err unknown command\n")
	ws.expectClose()
	first.Stop()
	tcp.expectEOF()
	if got := first.Stats().DiskCommits; got != 6 {
		t.Fatalf("disk commits %d, want 6", got)
	}

	c2 := toy.New(nil)
	second := startHost(t, cfg, c2)
	if c2.Recovered != 19 {
		t.Fatalf("recovered %d, want 19", c2.Recovered)
	}
	tcp = dialTCP(t, second)
	tcp.send("add 0")
	tcp.expect("ok 19")
}

// TestToyClockIsMonotonicFromStart checks the clock the process sees.
func TestToyClockIsMonotonicFromStart(t *testing.T) {
	h := startHost(t, testConfig(t), toy.New(nil))
	c := dialTCP(t, h)
	c.send("time")
	c.send("time")
	var nows [2]int64
	for i := range nows {
		_ = c.conn.SetReadDeadline(time.Now().Add(testTimeout))
		line, err := c.r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		var wall int64
		if _, err := fmt.Sscanf(line, "time %d %d\n", &nows[i], &wall); err != nil {
			t.Fatalf("bad reply %q: %v", line, err)
		}
		if wall <= 0 {
			t.Fatalf("wall %d", wall)
		}
	}
	if nows[0] <= 0 || nows[1] < nows[0] {
		t.Fatalf("monotonic times %v", nows)
	}
}
