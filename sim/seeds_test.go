package sim_test

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/jindou-im/jindou/internal/toy"
	"github.com/jindou-im/jindou/runtime"
	"github.com/jindou-im/jindou/sim"
)

var (
	seedFlag  = flag.Uint64("seed", 1, "first seed TestSeeds runs")
	seedsFlag = flag.Int("seeds", 0, "how many consecutive seeds TestSeeds runs (default 1 with -seed, else 20)")
)

// seedRange is the seeds TestSeeds runs: -seed alone runs that one seed.
func seedRange() (first uint64, n int) {
	n = *seedsFlag
	if n == 0 {
		n = 20
		flag.Visit(func(f *flag.Flag) {
			if f.Name == "seed" {
				n = 1
			}
		})
	}
	return *seedFlag, n
}

// TestToySeeds runs one seeded toy world per seed: the seed draws the cluster, its
// links, disks, clocks, clients and crash plan; the run checks that every
// acknowledged addition survives each crash, then heals everything and
// checks that the nodes converge.
func TestToySeeds(t *testing.T) {
	first, n := seedRange()
	for seed := first; seed < first+uint64(n); seed++ {
		r := runToySeed(seed)
		fmt.Printf("seed=%d trace=%016x nodes=%d clients=%d events=%d crashes=%d restarts=%d acked=%d virtual=%v wall=%v events/s=%.0f virtual/wall=%.1f\n",
			seed, r.trace, r.nodes, r.clients, r.stats.Events, r.stats.Crashes, r.stats.Restarts, r.acked,
			r.virtual, r.wall.Round(time.Millisecond), float64(r.stats.Events)/r.wall.Seconds(), r.virtual.Seconds()/r.wall.Seconds())
		if len(r.failures) > 0 {
			for _, f := range r.failures {
				t.Errorf("seed %d: %s", seed, f)
			}
			t.Errorf("replay: go test ./sim -run TestToySeeds -seed=%d -v", seed)
		}
	}
}

type seedResult struct {
	trace          uint64
	nodes, clients int
	acked          int
	stats          sim.Stats
	virtual, wall  time.Duration
	failures       []string
}

const (
	safetyPhase   = 3 * time.Second
	livenessPhase = time.Second
)

func runToySeed(seed uint64) seedResult {
	start := time.Now()
	w := newToyWorld(seed, 0)
	env := rand.New(w.s.Rand("world"))
	var res seedResult
	fail := func(format string, args ...any) { res.failures = append(res.failures, fmt.Sprintf(format, args...)) }

	res.nodes = 1 + env.IntN(5)
	for i := 1; i <= res.nodes; i++ {
		w.ids = append(w.ids, runtime.NodeID(i))
	}
	lat := time.Duration(50+env.IntN(2000)) * time.Microsecond
	w.s.SetAllLinks(sim.LinkConfig{LatencyMin: lat / 2, LatencyMax: lat, LossPct: env.IntN(10), DupPct: env.IntN(5), Reorder: env.IntN(2) == 0})
	w.s.SetConnConfig(sim.ConnConfig{LatencyMin: lat / 2, LatencyMax: 2 * lat, Fragment: env.IntN(2) == 0})
	for _, id := range w.ids {
		p := w.s.AddProcess(id, toyFactory(w))
		p.SetDisk(sim.DiskConfig{LatencyMin: 100 * time.Microsecond, LatencyMax: time.Duration(200+env.IntN(5000)) * time.Microsecond, ErrorPct: env.IntN(3)})
		p.SetDrift(int64(env.IntN(2001) - 1000))
		p.SkewWall(time.Duration(env.IntN(10_000)-5_000) * time.Millisecond)
		p.Start()
	}
	res.clients = 2 + env.IntN(10)
	for i := range res.clients {
		w.addClient(w.ids[i%len(w.ids)], time.Duration(1+env.IntN(20))*time.Millisecond)
	}
	// The crash plan: each crash keeps a seeded share of unsynced data.
	for range env.IntN(6) {
		id := w.ids[env.IntN(len(w.ids))]
		at := time.Duration(env.Int64N(int64(safetyPhase)))
		down := time.Duration(1+env.IntN(300)) * time.Millisecond
		keep := []int{0, 100, 1 + env.IntN(99)}[env.IntN(3)]
		w.s.At(at, "crash", func() {
			if p := w.s.Proc(id); p.Up() {
				p.Crash(keep)
				w.s.After(down, "restart", func() {
					if p.Up() {
						return // the liveness phase restarted it already
					}
					p.Start()
					if got := w.counter(id).Recovered; got < w.ackedSum[id] || got > w.sentSum[id] {
						fail("node %d recovered %d after a crash keeping %d%%: acked %d, sent %d", id, got, keep, w.ackedSum[id], w.sentSum[id])
					}
				})
			}
		})
	}
	// A partition for a while, one way or both.
	if len(w.ids) > 1 && env.IntN(2) == 0 {
		a, b := w.ids[0], w.ids[1]
		at := time.Duration(env.Int64N(int64(safetyPhase)))
		w.s.At(at, "partition", func() { w.s.Partition(a, b) })
		w.s.At(at+time.Duration(env.IntN(1000))*time.Millisecond, "heal", func() { w.s.Heal() })
	}
	if err := w.s.Run(safetyPhase); err != nil {
		fail("safety phase: %v", err)
	}
	// Liveness: heal the network and restart what is down; every node must
	// then learn every other node's durable total.
	w.s.Heal()
	w.s.SetAllLinks(sim.DefaultLinkConfig())
	for _, id := range w.ids {
		if p := w.s.Proc(id); !p.Up() {
			p.Start()
		}
	}
	for _, c := range w.clients {
		c.interval = time.Hour // stop adding
	}
	if err := w.s.RunFor(livenessPhase); err != nil {
		fail("liveness phase: %v", err)
	}
	for _, id := range w.ids {
		for _, peer := range w.ids {
			if peer == id {
				continue
			}
			if got, want := w.counter(id).PeerTotals[peer], durableTotal(w, peer); got != want {
				fail("node %d believes node %d's total is %d, it is %d", id, peer, got, want)
			}
		}
	}
	for _, c := range w.clients {
		res.acked += c.acked
	}
	res.trace, res.stats, res.virtual, res.wall = w.s.TraceHash(), w.s.Stats(), w.s.Now(), time.Since(start)
	return res
}

func toyFactory(w *toyWorld) func() runtime.Process {
	return func() runtime.Process { return toy.New(w.ids) }
}

func durableTotal(w *toyWorld, id runtime.NodeID) int64 {
	return w.counter(id).Durable()
}
