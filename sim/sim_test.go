package sim_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/jindou-im/jindou/internal/toy"
	"github.com/jindou-im/jindou/runtime"
	"github.com/jindou-im/jindou/sim"
)

func TestSameSeedSameTraceOtherSeedOther(t *testing.T) {
	run := func(seed uint64) uint64 {
		w := newToyWorld(seed, 3)
		for i := range 6 {
			w.addClient(w.ids[i%3], 5*time.Millisecond)
		}
		w.s.After(300*time.Millisecond, "crash", func() { w.s.Proc(2).Crash(50) })
		w.s.After(400*time.Millisecond, "restart", func() { w.s.Proc(2).Start() })
		if err := w.s.Run(time.Second); err != nil {
			t.Fatal(err)
		}
		return w.s.TraceHash()
	}
	a, b, c := run(7), run(7), run(8)
	if a != b {
		t.Fatalf("seed 7 gave trace %016x then %016x", a, b)
	}
	if a == c {
		t.Fatalf("seeds 7 and 8 gave the same trace %016x", a)
	}
}

func TestAcknowledgedAdditionsSurviveCrash(t *testing.T) {
	for _, keep := range []int{0, 37, 100} {
		w := newToyWorld(3, 1)
		for range 4 {
			w.addClient(1, 2*time.Millisecond)
		}
		for round := range 5 {
			at := time.Duration(round+1) * 200 * time.Millisecond
			w.s.At(at, "crash", func() { w.s.Proc(1).Crash(keep) })
			w.s.At(at+20*time.Millisecond, "restart", func() {
				w.s.Proc(1).Start()
				got := w.counter(1).Recovered
				if got < w.ackedSum[1] || got > w.sentSum[1] {
					t.Errorf("keep %d%%: recovered %d, want between acked %d and sent %d", keep, got, w.ackedSum[1], w.sentSum[1])
				}
			})
		}
		if err := w.s.Run(1200 * time.Millisecond); err != nil {
			t.Fatal(err)
		}
		if st := w.s.Stats(); st.Crashes != 5 || st.Restarts != 5 {
			t.Fatalf("stats %+v: want 5 crashes and restarts", st)
		}
		if w.ackedSum[1] == 0 {
			t.Fatal("no addition was acknowledged")
		}
	}
}

func TestPartitionedLinkDeliversNothing(t *testing.T) {
	w := newToyWorld(1, 2)
	w.addClient(1, time.Millisecond)
	w.s.Partition(1, 2) // one way: 2 still reaches 1
	if err := w.s.Run(200 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if _, heard := w.counter(2).PeerTotals[1]; heard {
		t.Fatal("node 2 heard from node 1 across a partition")
	}
	if _, heard := w.counter(1).PeerTotals[2]; !heard {
		t.Fatal("node 1 did not hear from node 2 on the open direction")
	}
	if w.s.Stats().PeerBlocked == 0 {
		t.Fatal("no message counted as blocked")
	}
	w.s.Heal()
	if err := w.s.RunFor(100 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if w.counter(2).PeerTotals[1] == 0 {
		t.Fatal("node 2 did not hear node 1's total after healing")
	}
}

// seqProc sends numbered messages to node 2 and records what node 2 got.
type seqProc struct {
	env  runtime.Env
	loop runtime.Loop
	next int
	got  []int
}

func (p *seqProc) Start(env runtime.Env) error {
	p.env = env
	p.loop = env.NewLoop("main", p)
	if env.Node() == 1 {
		p.loop.After(0, "tick")
	}
	return nil
}
func (p *seqProc) Accept(runtime.ConnInfo) runtime.Loop { return p.loop }
func (p *seqProc) Stop()                                {}
func (p *seqProc) Kill()                                {}
func (p *seqProc) Handle(ev runtime.Event) {
	switch e := ev.(type) {
	case runtime.TimerFired:
		if p.next < 1000 {
			p.env.Transport().Send(2, "main", []byte{byte(p.next >> 8), byte(p.next)})
			p.next++
			p.loop.After(10*time.Microsecond, "tick")
		}
	case runtime.PeerMsg:
		p.got = append(p.got, int(e.Data[0])<<8|int(e.Data[1]))
	}
}

func runSeqLink(t *testing.T, cfg sim.LinkConfig) (got []int, st sim.Stats) {
	t.Helper()
	s := sim.New(sim.Config{Seed: 11})
	s.SetAllLinks(cfg)
	var recv *seqProc
	s.AddProcess(1, func() runtime.Process { return &seqProc{} }).Start()
	s.AddProcess(2, func() runtime.Process { recv = &seqProc{}; return recv }).Start()
	if err := s.RunUntilIdle(); err != nil {
		t.Fatal(err)
	}
	return recv.got, s.Stats()
}

func TestLinkLossDuplicationAndReordering(t *testing.T) {
	base := sim.LinkConfig{LatencyMin: time.Millisecond, LatencyMax: 5 * time.Millisecond}
	got, _ := runSeqLink(t, base)
	if len(got) != 1000 || !ascending(got) {
		t.Fatalf("reliable FIFO link: got %d messages, ascending=%v", len(got), ascending(got))
	}
	lossy := base
	lossy.LossPct = 30
	got, st := runSeqLink(t, lossy)
	if st.PeerDropped == 0 || len(got) != 1000-int(st.PeerDropped) || !ascending(got) {
		t.Fatalf("lossy link: got %d, dropped %d", len(got), st.PeerDropped)
	}
	dup := base
	dup.DupPct = 20
	got, st = runSeqLink(t, dup)
	if st.PeerDuplicated == 0 || len(got) != 1000+int(st.PeerDuplicated) {
		t.Fatalf("duplicating link: got %d, duplicated %d", len(got), st.PeerDuplicated)
	}
	re := base
	re.Reorder = true
	got, _ = runSeqLink(t, re)
	if len(got) != 1000 || ascending(got) {
		t.Fatalf("reordering link: got %d messages, all in order", len(got))
	}
}

func ascending(xs []int) bool {
	for i := 1; i < len(xs); i++ {
		if xs[i] < xs[i-1] {
			return false
		}
	}
	return true
}

// idleProc does nothing; tests drive its disk directly.
type idleProc struct{ loop runtime.Loop }

func (p *idleProc) Start(env runtime.Env) error          { p.loop = env.NewLoop("main", p); return nil }
func (p *idleProc) Accept(runtime.ConnInfo) runtime.Loop { return p.loop }
func (p *idleProc) Stop()                                {}
func (p *idleProc) Kill()                                {}
func (p *idleProc) Handle(runtime.Event)                 {}

// writeSyncedThenUnsynced leaves "log" with 8 KiB synced and 40 KiB more
// unsynced, and "new" unsynced in the directory.
func writeSyncedThenUnsynced(t *testing.T, fs vfs.FS) (synced, all []byte) {
	t.Helper()
	f, err := fs.Create("log", vfs.WriteCategoryUnspecified)
	if err != nil {
		t.Fatal(err)
	}
	synced = bytes.Repeat([]byte("s"), 8192)
	all = append(bytes.Clone(synced), bytes.Repeat([]byte("u"), 40960)...)
	mustWrite(t, f, synced)
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	d, _ := fs.OpenDir("")
	if err := d.Sync(); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, f, all[len(synced):])
	g, _ := fs.Create("new", vfs.WriteCategoryUnspecified)
	mustWrite(t, g, []byte("unsynced file"))
	return synced, all
}

func mustWrite(t *testing.T, f vfs.File, b []byte) {
	t.Helper()
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
}

func crashAndRead(t *testing.T, seed uint64, keep int) (log []byte, newExists bool) {
	t.Helper()
	s := sim.New(sim.Config{Seed: seed})
	p := s.AddProcess(1, func() runtime.Process { return &idleProc{} })
	p.Start()
	writeSyncedThenUnsynced(t, p.FS())
	p.Crash(keep)
	f, err := p.FS().Open("log")
	if err != nil {
		t.Fatal(err)
	}
	log, _ = io.ReadAll(f)
	_, err = p.FS().Stat("new")
	return log, err == nil
}

func TestCrashLosesExactlyTheUnsyncedWritesTheSeedChooses(t *testing.T) {
	synced, all := writeSyncedThenUnsynced(t, vfs.NewMem())
	if log, isNew := crashAndRead(t, 1, 0); !bytes.Equal(log, synced) || isNew {
		t.Fatalf("keep 0%%: log %d bytes (want %d), unsynced file kept=%v", len(log), len(synced), isNew)
	}
	if log, isNew := crashAndRead(t, 1, 100); !bytes.Equal(log, all) || !isNew {
		t.Fatalf("keep 100%%: log %d bytes (want %d), unsynced file kept=%v", len(log), len(all), isNew)
	}
	outcomes := map[string]bool{}
	for seed := uint64(1); seed <= 20; seed++ {
		log, isNew := crashAndRead(t, seed, 50)
		again, _ := crashAndRead(t, seed, 50)
		if !bytes.Equal(log, again) {
			t.Fatalf("seed %d: two crashes of the same history kept different data", seed)
		}
		if isNew {
			t.Fatalf("seed %d: an unsynced directory entry survived a partial crash", seed)
		}
		if !bytes.HasPrefix(log, synced) {
			t.Fatalf("seed %d: synced data lost", seed)
		}
		for i := len(synced); i < len(log); i++ {
			if log[i] != 'u' && log[i] != 0 {
				t.Fatalf("seed %d: byte %d is %q, neither written nor a hole", seed, i, log[i])
			}
		}
		outcomes[fmt.Sprintf("%x", log)] = true
	}
	if len(outcomes) < 3 {
		t.Fatalf("20 seeds kept only %d distinct shares of the unsynced data", len(outcomes))
	}
}

func TestSkewAndDriftShowInTheClock(t *testing.T) {
	w := newToyWorld(1, 1)
	p := w.s.Proc(1)
	clk := p.Clock()
	if err := w.s.Run(time.Second); err != nil {
		t.Fatal(err)
	}
	wall0, mono0 := clk.Wall(), clk.Now()
	p.SkewWall(-5 * time.Second)
	if got := clk.Wall().Sub(wall0); got != -5*time.Second {
		t.Fatalf("wall jumped by %v, want -5s", got)
	}
	if clk.Now() != mono0 {
		t.Fatal("a wall-clock jump moved the monotonic clock")
	}
	p.SetDrift(100_000) // 10% fast
	if err := w.s.RunFor(time.Second); err != nil {
		t.Fatal(err)
	}
	if got := clk.Now() - mono0; got != 1100*time.Millisecond {
		t.Fatalf("10%% fast clock advanced %v in 1s of virtual time", got)
	}
	// Timers run on local time: a 10% fast clock fires its 10ms gossip
	// timer about every 9.09ms of virtual time.
	before := w.s.Stats().Events
	if err := w.s.RunFor(time.Second); err != nil {
		t.Fatal(err)
	}
	if ticks := w.s.Stats().Events - before; ticks != 110 {
		t.Fatalf("%d timer events in 1s at 10%% drift, want 110", ticks)
	}
}

func TestDiskErrorsAreReported(t *testing.T) {
	w := newToyWorld(5, 1)
	w.s.Proc(1).SetDisk(sim.DiskConfig{LatencyMin: time.Millisecond, LatencyMax: time.Millisecond, ErrorPct: 100})
	c := w.addClient(1, time.Millisecond)
	if err := w.s.Run(100 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if c.failed == 0 || c.acked != 0 {
		t.Fatalf("with every commit failing: %d failed, %d acked", c.failed, c.acked)
	}
	if st := w.s.Stats(); st.DiskErrors < int64(c.failed) || st.DiskErrors > int64(c.failed+len(c.inflight)) {
		t.Fatalf("disk errors %d, failed replies %d", st.DiskErrors, c.failed)
	}
}

func TestFragmentedStreamsKeepTheirBytes(t *testing.T) {
	w := newToyWorld(9, 1)
	w.s.SetConnConfig(sim.ConnConfig{LatencyMin: time.Millisecond, LatencyMax: 4 * time.Millisecond, Fragment: true})
	c := w.addClient(1, 500*time.Microsecond)
	if err := w.s.Run(200 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if c.acked < 100 || c.failed != 0 {
		t.Fatalf("acked %d, failed %d", c.acked, c.failed)
	}
}

func TestCutConnectionClosesBothEnds(t *testing.T) {
	w := newToyWorld(2, 1)
	c := w.addClient(1, time.Millisecond)
	w.s.At(50*time.Millisecond, "cut", func() { w.s.Cut(c.conn) })
	w.s.At(51*time.Millisecond, "check", func() {
		if c.open {
			t.Error("client still open after the cut")
		}
	})
	if err := w.s.Run(200 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if w.s.Stats().ConnCuts != 1 || !c.open {
		t.Fatalf("cuts %d, reconnected %v", w.s.Stats().ConnCuts, c.open)
	}
}

func TestConnectingToADownNodeIsRefused(t *testing.T) {
	w := newToyWorld(2, 1)
	w.s.Proc(1).Crash(0)
	c := w.addClient(1, time.Millisecond)
	if err := w.s.Run(20 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if c.open {
		t.Fatal("connected to a crashed node")
	}
}

// spinProc posts to itself forever without time passing.
type spinProc struct{ loop runtime.Loop }

type spin struct{}

func (spin) Kind() string { return "spin" }

func (p *spinProc) Start(env runtime.Env) error {
	p.loop = env.NewLoop("main", p)
	p.loop.Post(spin{})
	return nil
}
func (p *spinProc) Accept(runtime.ConnInfo) runtime.Loop { return p.loop }
func (p *spinProc) Stop()                                {}
func (p *spinProc) Kill()                                {}
func (p *spinProc) Handle(runtime.Event)                 { p.loop.Post(spin{}) }

func TestLivelockIsAnError(t *testing.T) {
	s := sim.New(sim.Config{Seed: 1, MaxEvents: 10_000})
	s.AddProcess(1, func() runtime.Process { return &spinProc{} }).Start()
	if err := s.Run(time.Second); !errors.Is(err, sim.ErrLivelock) {
		t.Fatalf("Run returned %v, want ErrLivelock", err)
	}
}

func TestFailedStartFailsTheRun(t *testing.T) {
	s := sim.New(sim.Config{Seed: 1})
	s.AddProcess(1, func() runtime.Process { return &failProc{} }).Start()
	if err := s.Run(time.Second); err == nil {
		t.Fatal("a failed start went unnoticed")
	}
}

type failProc struct{ idleProc }

func (failProc) Start(runtime.Env) error { return errors.New("no") }

func TestToyAnswersTimeWithSkewedWallClock(t *testing.T) {
	w := newToyWorld(4, 1)
	w.s.Proc(1).SkewWall(time.Hour)
	c := w.addClient(1, time.Hour)
	w.s.At(10*time.Millisecond, "ask", func() { c.conn.Write([]byte("time\n")) })
	if err := w.s.Run(50 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	var mono, wall int64
	if len(c.replies) != 1 {
		t.Fatalf("replies %q", c.replies)
	}
	fmt.Sscanf(c.replies[0], "time %d %d", &mono, &wall)
	want := time.Date(2026, 1, 1, 1, 0, 0, 0, time.UTC)
	if got := time.Unix(0, wall).UTC(); got.Before(want) || got.After(want.Add(time.Second)) {
		t.Fatalf("wall %v, want an hour past the epoch", got)
	}
	_ = toy.LogName
}

func TestFailedStartLeavesTheProcessDown(t *testing.T) {
	s := sim.New(sim.Config{Seed: 1})
	p := s.AddProcess(1, func() runtime.Process { return &failProc{} })
	err := p.Start()
	if err == nil || p.Up() || p.Process() != nil {
		t.Fatalf("a failed start: err %v, up %v, process %v", err, p.Up(), p.Process())
	}
	if runErr := s.Run(time.Second); !errors.Is(runErr, err) {
		t.Fatalf("Run returned %v, want the start's error %v", runErr, err)
	}
}

func TestHeldCommitsCompleteOnlyAfterRelease(t *testing.T) {
	w := newToyWorld(6, 1)
	p := w.s.Proc(1)
	c := w.addClient(1, 5*time.Millisecond)
	if err := w.s.Run(100 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	// Commits submitted before the hold still complete.
	before, pending := c.acked, len(c.inflight)
	if before == 0 {
		t.Fatal("nothing acknowledged before the hold")
	}
	p.HoldDisk()
	if err := w.s.RunFor(time.Second); err != nil {
		t.Fatal(err)
	}
	held, waiting := p.DiskHeld()
	if !held || waiting < 100 || c.acked > before+pending {
		t.Fatalf("held %v with %d commits waiting; %d acked during the hold, %d were pending", held, waiting, c.acked-before, pending)
	}
	during := c.acked
	if n := p.ReleaseDisk(); n != waiting {
		t.Fatalf("released %d commits, %d were waiting", n, waiting)
	}
	if held, _ := p.DiskHeld(); held {
		t.Fatal("still held after the release")
	}
	if err := w.s.RunFor(100 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if c.acked < during+waiting {
		t.Fatalf("after the release %d acked, want at least %d", c.acked, during+waiting)
	}
}

func TestCrashWhileHeldLosesTheUnsyncedWrites(t *testing.T) {
	for _, keep := range []int{0, 100} {
		w := newToyWorld(7, 1)
		p := w.s.Proc(1)
		w.addClient(1, 5*time.Millisecond)
		if err := w.s.Run(100 * time.Millisecond); err != nil {
			t.Fatal(err)
		}
		p.HoldDisk()
		if err := w.s.RunFor(200 * time.Millisecond); err != nil {
			t.Fatal(err)
		}
		acked, sent := w.ackedSum[1], w.sentSum[1]
		if _, waiting := p.DiskHeld(); waiting == 0 || acked == 0 {
			t.Fatalf("keep %d%%: %d commits held, %d acked", keep, waiting, acked)
		}
		p.Crash(keep)
		if held, _ := p.DiskHeld(); held {
			t.Fatal("the hold outlived the crash")
		}
		if err := p.Start(); err != nil {
			t.Fatal(err)
		}
		// The toy writes an addition, then commits its sync. The held
		// syncs never ran: a power loss keeps exactly what was
		// acknowledged; a process crash keeps the unsynced writes too.
		got := w.counter(1).Recovered
		if keep == 0 && got != acked || keep == 100 && (got <= acked || got > sent) {
			t.Fatalf("keep %d%%: recovered %d; acknowledged %d, sent %d", keep, got, acked, sent)
		}
	}
}
