package world

import (
	"time"

	"github.com/jindou-im/jindou/chaos"
	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/runtime"
)

// Membership changes as the world carries them out: a join adds a node
// that knows one member, a removal asks the cluster to remove a member and
// stops that node for good once it holds no data replica (as an operator
// would), telling the caller through Hooks.

// membershipPoll is how often a removal checks whether the removed node's
// replicas have moved.
const membershipPoll = 500 * time.Millisecond

// handOffWait bounds how long a graceful stop waits for the hand-off's
// answer (lost if the node crashes meanwhile).
const handOffWait = 5 * time.Second

func (w *World) scheduleMembership(f chaos.Fault, h Hooks, c *chaos.Counter) {
	s := w.Sim
	switch f := f.(type) {
	case chaos.Join:
		s.At(f.At, "join", func() {
			seed := w.anyUp(0)
			if seed == 0 {
				return
			}
			cfg := w.clusterCfg
			cfg.Members, cfg.Join = []uint64{uint64(seed)}, true
			id := slicesMax(w.nodeIDs) + 1
			n := w.AddNode(id, cfg)
			c.Fire(chaos.MemberJoin)
			if h.Joined != nil {
				h.Joined(n)
			}
		})
	case chaos.Remove:
		s.At(f.At, "remove", func() { w.askRemoval(runtime.NodeID(f.Node), h, c) })
	case chaos.Stop:
		s.At(f.At, "graceful-stop", func() { w.gracefulStop(f, h, c) })
	}
}

// gracefulStop hands node f.Node's leaderships off, stops it once that is
// answered (or after the world's patience), and starts it again f.Down
// later.
func (w *World) gracefulStop(f chaos.Stop, h Hooks, c *chaos.Counter) {
	id := runtime.NodeID(f.Node)
	n := w.nodes[id]
	if !n.Up() || w.removing[id] {
		return
	}
	stopped := false
	inc := n.proc.Incarnations()
	stop := func() {
		// Not if the node crashed meanwhile: that incarnation is gone.
		if stopped || !n.Up() || n.proc.Incarnations() != inc {
			return
		}
		stopped = true
		if h.BeforeStop != nil {
			h.BeforeStop(id)
		}
		n.Stop()
		c.Fire(chaos.StopGraceful)
		w.Sim.After(f.Down, "restart", func() {
			if !n.Up() && !w.removed[id] && n.Start() == nil && h.AfterRestart != nil {
				h.AfterRestart(id)
			}
		})
	}
	n.Submit(node.HandOff{}, func(any, error) { w.Sim.After(0, "stop", stop) })
	w.Sim.After(handOffWait, "stop-anyway", stop)
}

// askRemoval asks an up member other than id to remove id, again every
// poll until one takes it (or refuses it for good: id is not a member, or
// the last), then waits for id's replicas to move.
func (w *World) askRemoval(id runtime.NodeID, h Hooks, c *chaos.Counter) {
	n := w.nodes[w.anyUp(id)]
	if n == nil || w.removing[id] {
		w.Sim.After(membershipPoll, "remove-again", func() { w.askRemoval(id, h, c) })
		return
	}
	answered := false
	n.Submit(node.RemoveMember{ID: uint64(id)}, func(_ any, err error) {
		answered = true
		if _, bad := err.(*node.BadRequest); bad {
			return
		}
		if err != nil {
			w.Sim.After(membershipPoll, "remove-again", func() { w.askRemoval(id, h, c) })
			return
		}
		w.removing[id] = true
		c.Fire(chaos.MemberRemove)
		w.awaitMoved(id, h)
	})
	w.Sim.After(w.patience, "remove-lost", func() {
		if !answered { // the node crashed with the request
			w.askRemoval(id, h, c)
		}
	})
}

// awaitMoved kills node id once it holds no data replica, asking every
// poll (an answer lost to a crash is asked again).
func (w *World) awaitMoved(id runtime.NodeID, h Hooks) {
	w.Sim.After(membershipPoll, "removal-poll", func() {
		if w.removed[id] {
			return
		}
		if n := w.nodes[id]; n.Up() {
			n.Submit(node.SlotDigests{}, func(v any, err error) {
				if err != nil || w.removed[id] || holdsData(v.([]node.SlotDigest)) {
					return
				}
				w.removed[id] = true
				// Not from inside the node's own event. Its process is
				// killed, as an operator would once it holds nothing.
				w.Sim.After(0, "removal-stop", func() {
					if !n.Up() {
						return
					}
					if h.BeforeCrash != nil {
						h.BeforeCrash(id)
					}
					n.Crash(100)
					if h.Removed != nil {
						h.Removed(id)
					}
				})
			})
		}
		w.awaitMoved(id, h)
	})
}

func holdsData(ds []node.SlotDigest) bool {
	for _, d := range ds {
		if d.Slot != node.ControllerGroup {
			return true
		}
	}
	return false
}

// anyUp is the lowest up node other than not, or 0.
func (w *World) anyUp(not runtime.NodeID) runtime.NodeID {
	for _, id := range w.nodeIDs {
		if id != not && w.nodes[id].Up() && !w.removing[id] {
			return id
		}
	}
	return 0
}

func slicesMax(ids []runtime.NodeID) runtime.NodeID {
	var m runtime.NodeID
	for _, id := range ids {
		m = max(m, id)
	}
	return m
}
