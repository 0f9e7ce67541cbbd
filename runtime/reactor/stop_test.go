package reactor

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jindou-im/jindou/runtime"
)

// drainProc is a process with work in flight that its loop finishes, a
// piece per turn, once it is told to drain.
type drainProc struct {
	*testProc
	inFlight atomic.Int64
	mu       sync.Mutex
	steps    []string
}

type finishOne struct{}

func (finishOne) Kind() string { return "finish-one" }

func (d *drainProc) step(s string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.steps = append(d.steps, s)
}

func (d *drainProc) Drain()               { d.step("drain"); d.loops[0].Post(finishOne{}) }
func (d *drainProc) SendsInFlight() int64 { return d.inFlight.Load() }
func (d *drainProc) Farewell()            { d.step("farewell") }

// TestStopLetsADrainerFinishOnRunningLoopsBeforeItStops: the loops run
// during the drain (they finish the work in flight), the farewell comes
// once nothing is in flight, and Process.Stop only after both.
func TestStopLetsADrainerFinishOnRunningLoopsBeforeItStops(t *testing.T) {
	d := &drainProc{testProc: &testProc{n: 1}}
	d.inFlight.Store(20)
	d.on = func(p *testProc, _ int, ev runtime.Event) {
		if e, ok := ev.(runtime.Posted); ok && e.Msg == (finishOne{}) && d.inFlight.Add(-1) > 0 {
			p.loops[0].After(time.Millisecond, nil)
			p.loops[0].Post(finishOne{})
		}
	}
	d.stop = func(*testProc) { d.step("stop: in flight " + itoa(d.inFlight.Load())) }
	cfg := testConfig(t)
	h := New(cfg)
	if err := h.Start(d); err != nil {
		t.Fatal(err)
	}
	h.Stop()
	want := []string{"drain", "farewell", "stop: in flight 0"}
	if len(d.steps) != len(want) {
		t.Fatalf("steps %q, want %q", d.steps, want)
	}
	for i := range want {
		if d.steps[i] != want[i] {
			t.Fatalf("steps %q, want %q", d.steps, want)
		}
	}
}

// TestStopGivesUpOnADrainAfterStopTimeout: work that never finishes
// delays the stop by StopTimeout, no more.
func TestStopGivesUpOnADrainAfterStopTimeout(t *testing.T) {
	d := &drainProc{testProc: &testProc{n: 1}}
	d.inFlight.Store(1)
	d.on = func(*testProc, int, runtime.Event) {}
	cfg := testConfig(t)
	cfg.StopTimeout = 200 * time.Millisecond
	h := New(cfg)
	if err := h.Start(d); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	h.Stop()
	if took := time.Since(t0); took < cfg.StopTimeout || took > cfg.StopTimeout+5*time.Second {
		t.Fatalf("stop took %v with a drain that never ends, want about %v", took, cfg.StopTimeout)
	}
}

func itoa(n int64) string { return string(rune('0' + n)) }
