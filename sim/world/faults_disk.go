package world

import (
	"time"

	"github.com/jindou-im/jindou/chaos"
	"github.com/jindou-im/jindou/runtime"
	"github.com/jindou-im/jindou/sim"
)

// A full disk (chaos.DiskFull): the node's space runs out at At and
// returns For later; meanwhile its commits fail with sim.ErrNoSpace
// (runtime.ErrDiskFull) and write nothing.

// diskFullRestartDelay is how long a supervisor waits before it starts a
// node again that would not start on a full disk.
const diskFullRestartDelay = 250 * time.Millisecond

func (w *World) scheduleDiskFull(f chaos.DiskFull, c *chaos.Counter) {
	s := w.Sim
	s.At(f.At, "disk-full", func() {
		s.Proc(f.Node).FillDisk()
		c.Fire(chaos.DiskFullSpace)
		s.After(f.For, "disk-space", func() { w.freeDisk(f.Node) })
	})
}

// freeDisk gives node id's disk room again, if it was full.
func (w *World) freeDisk(id runtime.NodeID) {
	p := w.Sim.Proc(id)
	if p == nil || !p.DiskFull() {
		return
	}
	p.FreeDisk()
	if w.diskFreed == nil {
		w.diskFreed = map[runtime.NodeID]time.Duration{}
	}
	w.diskFreed[id] = w.Sim.Now()
}

// freeDisks gives every full disk room again (HealAll).
func (w *World) freeDisks() {
	for _, id := range w.nodeIDs {
		w.freeDisk(id)
	}
}

// DiskFullLately reports whether node id's disk is full, or got room back
// less than grace ago: a write refused for a full disk may still be
// answered so until the node's next retried commit has found the room
// (node's diskProbeMaxDelay) and the answer has travelled.
func (w *World) DiskFullLately(id runtime.NodeID, grace time.Duration) bool {
	if p := w.Sim.Proc(id); p != nil && p.DiskFull() {
		return true
	}
	at, ok := w.diskFreed[id]
	return ok && w.Sim.Now()-at < grace
}

// restart starts a crashed node again. A node does not start on a full
// disk (the production runtime refuses to: reactor's checkDiskRoom), so
// while it is full a supervisor tries again every diskFullRestartDelay. A
// failed start leaves the node down; the run reports it.
func (w *World) restart(proc *sim.Proc, h Hooks) {
	if proc.Up() {
		return
	}
	if proc.DiskFull() {
		w.Sim.After(diskFullRestartDelay, "restart", func() { w.restart(proc, h) })
		return
	}
	if proc.Start() == nil && h.AfterRestart != nil {
		h.AfterRestart(proc.ID())
	}
}

// FillDisk makes the node's disk full until FreeDisk (see sim.Proc.FillDisk).
func (n *Node) FillDisk() { n.proc.FillDisk() }

// FreeDisk gives the node's disk room again.
func (n *Node) FreeDisk() { n.w.freeDisk(n.proc.ID()) }
