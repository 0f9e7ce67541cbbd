package world

import (
	"fmt"
	"time"

	"github.com/jindou-im/jindou/chaos"
	"github.com/jindou-im/jindou/runtime"
	"github.com/jindou-im/jindou/sim"
)

// Hooks let a run react to the entries of a plan as the world interprets
// them.
type Hooks struct {
	// BeforeCrash runs right before a node crashes; BeforeStop right
	// before it stops gracefully.
	BeforeCrash, BeforeStop func(node runtime.NodeID)
	// AfterRestart runs right after a crashed node is started again (not
	// if its start failed).
	AfterRestart func(node runtime.NodeID)
	// Step does a workload step at its time. A plan with steps and no
	// Step hook is the caller's bug: Schedule panics.
	Step func(chaos.Step)
	// Joined runs right after a node joining the cluster was started;
	// Removed right after a removed member, its replicas moved, was
	// stopped for good.
	Joined  func(n *Node)
	Removed func(node runtime.NodeID)
}

// Schedule interprets plan p in the world's simulator: each fault is
// arranged at its time, and c counts each as it takes effect.
func (w *World) Schedule(p chaos.Plan, h Hooks, c *chaos.Counter) {
	s := w.Sim
	for _, f := range p {
		switch f := f.(type) {
		case chaos.Crash:
			s.At(f.At, "crash", func() {
				proc := s.Proc(f.Node)
				if !proc.Up() {
					return
				}
				if h.BeforeCrash != nil {
					h.BeforeCrash(f.Node)
				}
				proc.Crash(f.KeepPct)
				c.Fire(f.Class())
				s.After(f.Down, "restart", func() { w.restart(proc, h) })
			})
		case chaos.Disk:
			s.Proc(f.Node).SetDisk(sim.DiskConfig{LatencyMin: 100 * time.Microsecond, LatencyMax: f.MaxLatency, ErrorPct: f.ErrorPct})
			c.Fire(chaos.DiskSlow)
			// Errors count as fired only when a commit actually fails: the
			// run reads that from the simulator's stats (AddDiskErrors).
		case chaos.DiskFull:
			w.scheduleDiskFull(f, c)
		case chaos.Clock:
			if f.DriftPPM != 0 {
				s.Proc(f.Node).SetDrift(f.DriftPPM)
				c.Fire(chaos.ClockDrift)
			}
			if f.Jump != 0 {
				s.At(f.At, "clock-jump", func() {
					s.Proc(f.Node).SkewWall(f.Jump)
					c.Fire(chaos.ClockJump)
				})
			}
		case chaos.Conns:
			s.SetConnConfig(sim.ConnConfig{LatencyMin: f.MaxLatency / 4, LatencyMax: f.MaxLatency, Fragment: f.Fragment})
			c.Fire(chaos.ConnSlow)
			if f.Fragment {
				c.Fire(chaos.ConnFragment)
			}
		case chaos.Receiver:
			w.scheduleOutage(f, c)
		case chaos.Step:
			if h.Step == nil {
				panic(fmt.Sprintf("world: plan step %q without a Step hook", f))
			}
			s.At(f.At, "step", func() { h.Step(f) })
		case chaos.Partition, chaos.Link, chaos.PowerLoss:
			w.scheduleCluster(f, h, c)
		case chaos.Join, chaos.Remove, chaos.Stop:
			w.scheduleMembership(f, h, c)
		default:
			panic(fmt.Sprintf("world: plan entry %T (%s) the world cannot interpret", f, f))
		}
	}
}
