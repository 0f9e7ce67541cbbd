package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/runtime"
)

// clusterState is what the process knows of the cluster beside the core:
// the applied cluster table (polled), the peer addresses it knows, and
// this node's cluster id. The membership watcher keeps it, the peer
// handshake's card and /cluster/nodes read it.
type clusterState struct {
	// up: the core started (the listeners are bound).
	up atomic.Bool
	mu sync.Mutex
	id string
	// table is the applied cluster table last read (Known false: none).
	table node.ClusterMembersReply
	// book holds the peer addresses known, fixed those configured
	// (cluster_nodes, the member cluster_join names), which are how this
	// node reaches them and are never replaced.
	book  map[uint64]string
	fixed map[uint64]bool
	self  uint64
	// selfPeer is this node's peer address as others dial it.
	selfPeer string
	confs    confSummary
}

func newClusterState(self uint64) *clusterState {
	return &clusterState{self: self, book: map[uint64]string{}, fixed: map[uint64]bool{}, confs: confSummary{last: map[string]confSets{}}}
}

// setConfigured records the configured peer addresses.
func (c *clusterState) setConfigured(peers map[runtime.NodeID]string, selfPeer string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, addr := range peers {
		c.book[uint64(id)], c.fixed[uint64(id)] = addr, true
	}
	c.selfPeer = selfPeer
}

// cardFields are the cluster's id, its active members and the peer
// addresses known (this node's own among them), for the card.
func (c *clusterState) cardFields() (string, []uint64, map[uint64]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	peers := maps.Clone(c.book)
	if c.selfPeer != "" {
		peers[c.self] = c.selfPeer
	}
	return c.id, activeMembers(c.table), peers
}

func activeMembers(t node.ClusterMembersReply) []uint64 {
	var out []uint64
	for _, m := range t.Members {
		if m.Status == "active" {
			out = append(out, m.ID)
		}
	}
	return out
}

// listedMember is a member as /cluster/nodes lists it.
type listedMember struct {
	id           uint64
	addr, status string
}

// memberList is the applied table's members with the peer addresses
// known, or cluster_nodes' until a table is known.
func (c *clusterState) memberList(cc clusterConfig) []listedMember {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []listedMember
	if !c.table.Known {
		for _, m := range cc.members {
			out = append(out, listedMember{id: m.id, addr: m.addr, status: "active"})
		}
		if !slices.ContainsFunc(out, func(m listedMember) bool { return m.id == c.self }) {
			out = append(out, listedMember{id: c.self, addr: c.selfPeer, status: "active"})
		}
		return out
	}
	for _, m := range c.table.Members {
		addr := c.book[m.ID]
		if m.ID == c.self {
			addr = c.selfPeer
		}
		if addr == "" {
			addr = m.Addr
		}
		out = append(out, listedMember{id: m.ID, addr: addr, status: m.Status})
	}
	return out
}

// startClusterWatch starts the membership watcher once the core runs; the
// function it returns stops it and waits for it.
func (s *server) startClusterWatch() func() {
	s.cl.up.Store(true)
	if m, err := node.ReadDataDirMeta(vfs.Default, filepath.Join(s.cfg.DataDir, storeDir)); err == nil {
		s.cl.mu.Lock()
		s.cl.id = m.Cluster
		s.cl.mu.Unlock()
	}
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		s.watchCluster(stop)
	}()
	return func() {
		close(stop)
		<-done
	}
}

// handOffWait bounds the wait for a graceful stop's hand-off (the core
// gives up after 3 s itself).
const handOffWait = 5 * time.Second

// handOff moves every leadership this node holds to another voter before
// the core stops (node.HandOff), so that clients of the other members see
// no election timeout; it logs how it went. A cluster of one has no other
// voter: nothing to wait for.
func (s *server) handOff() {
	s.cl.mu.Lock()
	alone := len(activeMembers(s.cl.table)) <= 1
	s.cl.mu.Unlock()
	if alone {
		return // no other voter to hand to
	}
	t0 := time.Now()
	ch := make(chan node.HandOffReply, 1)
	s.node.Submit(node.HandOff{}, func(v any, _ error) {
		r, _ := v.(node.HandOffReply)
		ch <- r
	})
	select {
	case r := <-ch:
		s.log.Info("cluster: leaderships handed off before the stop", "still_led", r.StillLed, "transfers", r.Transfers, "took", time.Since(t0))
	case <-time.After(handOffWait):
		s.log.Warn("cluster: the hand-off before the stop did not answer", "took", time.Since(t0))
	}
}

// clusterWatchInterval is how often the watcher reads the applied table.
const clusterWatchInterval = 300 * time.Millisecond

// watchCluster follows the applied cluster table until stop closes: it
// hands the peer addresses the table and the peers' cards name to the
// transport, and logs each membership change and the replicas' moves.
func (s *server) watchCluster(stop <-chan struct{}) {
	t := time.NewTicker(clusterWatchInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		if r, ok := s.clusterTable(); ok {
			s.applyTable(r)
		}
		s.learnFromCards()
		s.cl.confs.flush(s.log)
	}
}

// clusterTable reads the node's applied table.
func (s *server) clusterTable() (node.ClusterMembersReply, bool) {
	ch := make(chan node.ClusterMembersReply, 1)
	s.node.Submit(node.ClusterMembers{}, func(v any, err error) {
		r, _ := v.(node.ClusterMembersReply)
		if err != nil {
			r = node.ClusterMembersReply{}
		}
		ch <- r
	})
	select {
	case r := <-ch:
		return r, r.Known
	case <-time.After(clusterStatsTimeout):
		return node.ClusterMembersReply{}, false
	}
}

// applyTable takes a newer table: logs what changed and gives the
// transport the addresses of the members that joined.
func (s *server) applyTable(r node.ClusterMembersReply) {
	c := s.cl
	c.mu.Lock()
	old := c.table
	if old.Known && old.Version == r.Version {
		c.mu.Unlock()
		return
	}
	c.table = r
	var set []node.MemberInfo
	for _, m := range r.Members {
		if m.ID != c.self && m.Addr != "" && !c.fixed[m.ID] && c.book[m.ID] != m.Addr {
			c.book[m.ID] = m.Addr
			set = append(set, m)
		}
	}
	c.mu.Unlock()
	for _, m := range set {
		s.host.SetPeer(runtime.NodeID(m.ID), m.Addr)
	}
	logTableChange(s.log, old, r)
}

// learnFromCards takes the peer addresses the peers' cards name for the
// members this node has none for: the members listed in cluster_nodes,
// whose addresses no table holds.
func (s *server) learnFromCards() {
	c := s.cl
	var learnt [][2]string
	for _, l := range s.host.PeerStats().Links {
		var card nodeCard
		if len(l.Card) == 0 || json.Unmarshal(l.Card, &card) != nil {
			continue
		}
		c.mu.Lock()
		for id, addr := range card.Peers {
			if id != c.self && addr != "" && c.book[id] == "" {
				c.book[id] = addr
				learnt = append(learnt, [2]string{fmt.Sprint(id), addr})
				s.host.SetPeer(runtime.NodeID(id), addr)
			}
		}
		c.mu.Unlock()
	}
	for _, p := range learnt {
		s.log.Info("cluster: learnt a member's peer address from a peer", "member", p[0], "peer_addr", p[1])
	}
}

// logTableChange logs, at info, the members that joined or were removed
// and one summary of the slots whose replicas the table moved.
func logTableChange(log interface{ Info(string, ...any) }, old, r node.ClusterMembersReply) {
	if !old.Known {
		log.Info("cluster: table", "version", r.Version, "members", describeMembers(r.Members))
		return
	}
	was := map[uint64]node.MemberInfo{}
	for _, m := range old.Members {
		was[m.ID] = m
	}
	for _, m := range r.Members {
		p, ok := was[m.ID]
		switch {
		case !ok && m.Status == "active":
			log.Info("cluster: member joined", "member", m.ID, "peer_addr", m.Addr, "version", r.Version)
		case (ok && p.Status == "active" || !ok) && m.Status == "removed":
			log.Info("cluster: member removed", "member", m.ID, "version", r.Version)
		}
	}
	changed, gains, losses := slotMoves(old.Slots, r.Slots)
	if changed > 0 {
		log.Info("cluster: slot replicas rebalanced", "version", r.Version, "slots", changed, "gains", gains, "losses", losses)
	}
}

func describeMembers(ms []node.MemberInfo) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = fmt.Sprintf("%d(%s)", m.ID, m.Status)
	}
	return strings.Join(parts, " ")
}

// slotMoves counts the slots whose targets changed and, per member, the
// replicas it gains and loses: "4:+6", "1:-2 2:-2".
func slotMoves(old, now [][]uint64) (changed int, gains, losses string) {
	plus, minus := map[uint64]int{}, map[uint64]int{}
	for i := range now {
		var was []uint64
		if i < len(old) {
			was = old[i]
		}
		moved := false
		for _, id := range now[i] {
			if !slices.Contains(was, id) {
				plus[id]++
				moved = true
			}
		}
		for _, id := range was {
			if !slices.Contains(now[i], id) {
				minus[id]++
				moved = true
			}
		}
		if moved {
			changed++
		}
	}
	return changed, countList(plus, "+"), countList(minus, "-")
}

func countList(m map[uint64]int, sign string) string {
	ids := slices.Collect(maps.Keys(m))
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = fmt.Sprintf("%d:%s%d", id, sign, m[id])
	}
	return strings.Join(parts, " ")
}
