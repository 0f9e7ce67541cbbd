package world

import (
	"fmt"
	"slices"

	"github.com/jindou-im/jindou/chaos"
	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/runtime"
)

// The cluster's faults as the world interprets them: partitions that heal,
// faulty links that become reliable again, and power losses of every
// node. Partitions that overlap block a link until the last of them ends.

type linkKey struct{ from, to runtime.NodeID }

func (w *World) scheduleCluster(f chaos.Fault, h Hooks, c *chaos.Counter) {
	s := w.Sim
	switch f := f.(type) {
	case chaos.Partition:
		s.At(f.At, "partition", func() {
			if f.Kind == chaos.PartLeader {
				w.leaderAsync(f.Slot, func(id runtime.NodeID) { w.partition(f, w.isolation(id), c) })
				return
			}
			w.partition(f, w.partitionLinks(f), c)
		})
	case chaos.Link:
		s.At(f.At, "link-faults", func() {
			base := s.DefaultLink()
			cfg := base
			cfg.LossPct, cfg.DupPct, cfg.Reorder = f.LossPct, f.DupPct, f.Reorder
			cfg.LatencyMax = max(cfg.LatencyMax, f.MaxLatency)
			links := w.faultyLinks(f)
			for _, l := range links {
				s.SetLink(l.from, l.to, cfg)
			}
			for _, cl := range f.Classes() {
				c.Fire(cl)
			}
			s.After(f.For, "link-repair", func() {
				for _, l := range links {
					s.SetLink(l.from, l.to, base)
				}
			})
		})
	case chaos.PowerLoss:
		s.At(f.At, "power-loss", func() {
			var crashed []runtime.NodeID
			for _, id := range s.ProcIDs() {
				if !s.Proc(id).Up() {
					continue
				}
				if h.BeforeCrash != nil {
					h.BeforeCrash(id)
				}
				s.Proc(id).Crash(0)
				crashed = append(crashed, id)
			}
			if len(crashed) == 0 {
				return
			}
			c.Fire(chaos.CrashCluster)
			s.After(f.Down, "power-back", func() {
				for _, id := range crashed {
					w.restart(s.Proc(id), h) // faults_disk.go
				}
			})
		})
	default:
		panic(fmt.Sprintf("world: plan entry %T (%s) the world cannot interpret", f, f))
	}
}

// partition blocks links for f's time, counting f as fired if it blocks
// any.
func (w *World) partition(f chaos.Partition, links []linkKey, c *chaos.Counter) {
	if len(links) == 0 {
		return
	}
	for _, l := range links {
		if w.blocks[l]++; w.blocks[l] == 1 {
			w.Sim.Partition(l.from, l.to)
		}
	}
	c.Fire(f.Class())
	w.Sim.After(f.For, "partition-heals", func() {
		for _, l := range links {
			if w.blocks[l] == 0 {
				continue // healed meanwhile (HealAll)
			}
			if w.blocks[l]--; w.blocks[l] == 0 {
				w.Sim.Unblock(l.from, l.to)
			}
		}
	})
}

func (w *World) partitionLinks(f chaos.Partition) []linkKey {
	known := func(id runtime.NodeID) bool { return w.Sim.Proc(id) != nil }
	switch f.Kind {
	case chaos.PartBoth:
		if known(f.A) && known(f.B) && f.A != f.B {
			return []linkKey{{f.A, f.B}, {f.B, f.A}}
		}
	case chaos.PartOneWay:
		if known(f.A) && known(f.B) && f.A != f.B {
			return []linkKey{{f.A, f.B}}
		}
	case chaos.PartIsolate:
		if known(f.A) {
			return w.isolation(f.A)
		}
	}
	return nil
}

// isolation is every link to and from id.
func (w *World) isolation(id runtime.NodeID) []linkKey {
	var out []linkKey
	for _, other := range w.Sim.ProcIDs() {
		if other != id {
			out = append(out, linkKey{id, other}, linkKey{other, id})
		}
	}
	return out
}

// faultyLinks is the links a link fault touches: From → To and back, or
// every link.
func (w *World) faultyLinks(f chaos.Link) []linkKey {
	if f.From != 0 {
		return []linkKey{{f.From, f.To}, {f.To, f.From}}
	}
	var out []linkKey
	ids := w.Sim.ProcIDs()
	for _, a := range ids {
		for _, b := range ids {
			if a != b {
				out = append(out, linkKey{a, b})
			}
		}
	}
	return out
}

// leaderAsync asks every up node's counters and hands then the node that
// leads slot in the highest term any of them leads it in; then does not
// run if none does. It does not run the simulator: the answers come in
// events of their own.
func (w *World) leaderAsync(slot int, then func(runtime.NodeID)) {
	var best runtime.NodeID
	var bestTerm uint64
	left := 0
	for _, n := range w.Nodes() {
		if n.Submit(node.Stats{}, func(v any, err error) {
			if err == nil {
				st := v.(node.StatsReply)
				if i := slices.Index(st.LedSlots, slot); i >= 0 && (best == 0 || st.LedTerms[i] > bestTerm) {
					best, bestTerm = n.ID(), st.LedTerms[i]
				}
			}
			if left--; left == 0 && best != 0 {
				then(best)
			}
		}) {
			left++
		}
	}
}

// HealAll ends every partition and link fault at once: every link
// unblocked and back to the default configuration, every full disk given
// room (the quiet phase).
func (w *World) HealAll() {
	w.Sim.Heal()
	w.freeDisks() // faults_disk.go
	clear(w.blocks)
	w.Sim.SetAllLinks(w.Sim.DefaultLink())
}
