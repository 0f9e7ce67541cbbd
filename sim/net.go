package sim

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jindou-im/jindou/runtime"
)

// LinkConfig sets a one-way node-to-node link.
type LinkConfig struct {
	// LatencyMin and LatencyMax bound a message's delay (uniform).
	LatencyMin, LatencyMax time.Duration
	// LossPct and DupPct are the percentages of messages lost and
	// delivered twice.
	LossPct, DupPct int
	// Reorder lets a message overtake earlier ones; without it the link
	// is FIFO.
	Reorder bool
}

// DefaultLinkConfig is a fast, reliable, FIFO datacenter link.
func DefaultLinkConfig() LinkConfig {
	return LinkConfig{LatencyMin: 100 * time.Microsecond, LatencyMax: time.Millisecond}
}

type linkKey struct{ from, to runtime.NodeID }

type link struct {
	cfg LinkConfig
	// blocked drops everything sent on the link (a one-way partition).
	blocked bool
	// last is the latest arrival scheduled, for FIFO delivery.
	last time.Duration
	rng  *rand.Rand
}

func (s *Sim) link(from, to runtime.NodeID) *link {
	k := linkKey{from, to}
	l := s.links[k]
	if l == nil {
		l = &link{cfg: s.defaultLink, rng: s.rng(fmt.Sprintf("link/%d/%d", from, to))}
		s.links[k] = l
	}
	return l
}

// SetLink configures the link from → to.
func (s *Sim) SetLink(from, to runtime.NodeID, cfg LinkConfig) { s.link(from, to).cfg = cfg }

// SetAllLinks configures every link, present and future.
func (s *Sim) SetAllLinks(cfg LinkConfig) {
	s.defaultLink = cfg
	for _, l := range s.links {
		l.cfg = cfg
	}
}

// Partition blocks the link from → to (one way).
func (s *Sim) Partition(from, to runtime.NodeID) { s.link(from, to).blocked = true }

// Unblock unblocks the link from → to.
func (s *Sim) Unblock(from, to runtime.NodeID) { s.link(from, to).blocked = false }

// Blocked reports whether the link from → to is blocked.
func (s *Sim) Blocked(from, to runtime.NodeID) bool { return s.link(from, to).blocked }

// Link is the configuration of the link from → to.
func (s *Sim) Link(from, to runtime.NodeID) LinkConfig { return s.link(from, to).cfg }

// DefaultLink is the configuration of links not set otherwise.
func (s *Sim) DefaultLink() LinkConfig { return s.defaultLink }

// PartitionBoth blocks both directions between a and b.
func (s *Sim) PartitionBoth(a, b runtime.NodeID) {
	s.Partition(a, b)
	s.Partition(b, a)
}

// Isolate blocks every link to and from id.
func (s *Sim) Isolate(id runtime.NodeID) {
	for _, other := range s.procIDs {
		if other != id {
			s.PartitionBoth(id, other)
		}
	}
}

// Heal unblocks every link.
func (s *Sim) Heal() {
	for _, l := range s.links {
		l.blocked = false
	}
}

// transport is the runtime.Transport of one incarnation.
type transport struct{ inc *incarnation }

func (t transport) Send(to runtime.NodeID, loopName string, data []byte) {
	if t.inc.dead {
		return
	}
	s := t.inc.p.s
	from := t.inc.p.id
	s.stats.PeerSent++
	l := s.link(from, to)
	if l.blocked {
		s.stats.PeerBlocked++
		return
	}
	if l.cfg.LossPct > 0 && l.rng.IntN(100) < l.cfg.LossPct {
		s.stats.PeerDropped++
		return
	}
	at := s.now + time.Duration(between(l.rng, int64(l.cfg.LatencyMin), int64(l.cfg.LatencyMax)))
	if !l.cfg.Reorder {
		at = max(at, l.last)
		l.last = at
	}
	ev := runtime.PeerMsg{From: from, Data: data}
	s.deliverPeer(at, to, loopName, ev)
	if l.cfg.DupPct > 0 && l.rng.IntN(100) < l.cfg.DupPct {
		s.stats.PeerDuplicated++
		dup := at + time.Duration(between(l.rng, 0, int64(l.cfg.LatencyMax)))
		if !l.cfg.Reorder {
			dup = max(dup, l.last)
			l.last = dup
		}
		s.deliverPeer(dup, to, loopName, runtime.PeerMsg{From: from, Data: append([]byte(nil), data...)})
	}
}

// deliverPeer hands ev to the loop named loopName of whatever incarnation
// of node to is running when it arrives.
func (s *Sim) deliverPeer(at time.Duration, to runtime.NodeID, loopName string, ev runtime.PeerMsg) {
	s.schedule(&event{
		at: at, node: to, loop: loopName, kind: ev.Kind(), digest: digestOf(ev),
		fn: func() {
			p := s.procs[to]
			if p == nil || p.inc == nil || p.inc.loops[loopName] == nil {
				s.stats.PeerUndelivered++
				return
			}
			p.inc.loops[loopName].handle(ev)
		},
	})
}
