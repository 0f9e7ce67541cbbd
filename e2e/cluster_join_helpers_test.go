package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// Helpers of the membership tests: nodes that join by cluster_join, a node
// alone that others may join, and waits on the cluster table's placement.

// joinToken is the cluster token of the membership tests' clusters.
const joinToken = "e2e-join-token"

// member is one process of a cluster grown by joins, with how to start it
// again.
type member struct {
	id   int
	opts nodeOpts
	p    *proc
	peer string // its peer listener
}

// loneOpts are the settings of node id alone with a peer listener (a
// cluster of one that others may join), or, with join set, of a node that
// joins through the peer address join. Ports are fixed so a restart keeps
// them.
func loneOpts(t *testing.T, id, slots int, join string, env ...string) (nodeOpts, string) {
	t.Helper()
	ports, release := freePorts(t, 4)
	release()
	e := append([]string{fmt.Sprintf("JINDOU_NODE_ID=%d", id), fmt.Sprintf("JINDOU_SLOTS=%d", slots),
		"JINDOU_CLUSTER_ADDR=" + ports[0], "JINDOU_CLUSTER_TOKEN=" + joinToken, "JINDOU_WS_ADDR=" + ports[1], "JINDOU_REACTORS=1"}, env...)
	if join != "" {
		e = append(e, "JINDOU_CLUSTER_JOIN="+join)
	}
	return nodeOpts{dataDir: t.TempDir(), env: e, httpAddr: ports[2], tcpAddr: ports[3]}, ports[0]
}

// startMember starts node id (alone, or joining through join) and waits
// until it is ready: for a joiner, admitted to the table.
func startMember(t *testing.T, id, slots int, join string, env ...string) *member {
	t.Helper()
	o, peer := loneOpts(t, id, slots, join, env...)
	m := &member{id: id, opts: o, peer: peer, p: launch(t, o)}
	m.p.awaitServing()
	m.p.awaitReady(60 * time.Second)
	return m
}

// restart starts m again on its data dir and ports.
func (m *member) restart(t *testing.T) {
	t.Helper()
	m.p = launch(t, m.opts)
	m.p.awaitServing()
	m.p.awaitReady(60 * time.Second)
}

// tableMembers is p's /cluster/nodes: id -> status.
func (p *proc) tableMembers() map[uint64]string {
	p.t.Helper()
	var r struct {
		Nodes []struct {
			ID     uint64 `json:"id"`
			Status string `json:"status"`
		} `json:"nodes"`
	}
	p.getJSON("/cluster/nodes", &r)
	out := map[uint64]string{}
	for _, n := range r.Nodes {
		out[n.ID] = n.Status
	}
	return out
}

// waitPlaced waits until the nodes agree on every slot's target replicas
// (each with want of them), every target holds its replica at the
// leader's applied index, and no other node holds one: the moves the
// table asked for are done.
func waitPlaced(t *testing.T, nodes map[uint64]*proc, want int, within time.Duration) {
	t.Helper()
	var last string
	defer func() {
		if t.Failed() {
			t.Logf("placement: %s", last)
		}
	}()
	waitFor(t, within, fmt.Sprintf("every slot on its %d target replicas, and on no other node", want), func() bool {
		last = placementGap(t, nodes, want)
		return last == ""
	})
}

// placementGap says what keeps the placement from being done, or "".
func placementGap(t *testing.T, nodes map[uint64]*proc, want int) string {
	t.Helper()
	views := map[uint64][]slotView{}
	var ref []slotView
	for id, p := range nodes {
		views[id] = p.slots()
		ref = views[id]
	}
	for s := range ref {
		targets := ref[s].Replicas
		if len(targets) != want {
			return fmt.Sprintf("slot %d has targets %v, want %d", s, targets, want)
		}
		for id, v := range views {
			held := v[s].Replica
			switch {
			case !slices.Equal(v[s].Replicas, targets):
				return fmt.Sprintf("slot %d: node %d's targets %v, another's %v", s, id, v[s].Replicas, targets)
			case slices.Contains(targets, id) && !held:
				return fmt.Sprintf("slot %d: target node %d holds no replica yet", s, id)
			case !slices.Contains(targets, id) && held:
				return fmt.Sprintf("slot %d: node %d still holds a replica, not a target %v", s, id, targets)
			case held && v[s].Applied != views[targets[0]][s].Applied:
				return fmt.Sprintf("slot %d: node %d applied %d, node %d %d", s, id, v[s].Applied, targets[0], views[targets[0]][s].Applied)
			}
		}
	}
	return ""
}

// ledOrHeld counts the slots node id leads and holds, in p's view.
func ledOrHeld(p *proc, id uint64) (led, held int) {
	for _, s := range p.slots() {
		if s.Leader == id {
			led++
		}
		if slices.Contains(s.Replicas, id) {
			held++
		}
	}
	return led, held
}

// logHas reports whether p logged a line whose message starts with msg.
func logHas(p *proc, msg string) bool {
	return strings.Contains(p.Logs(), `"msg":"`+msg)
}
