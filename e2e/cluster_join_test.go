package e2e

import (
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// peerOf is node i's peer listener, from its settings.
func (c *cluster) peerOf(i int) string {
	for _, e := range c.opts[i].env {
		if v, ok := strings.CutPrefix(e, "JINDOU_CLUSTER_ADDR="); ok {
			return v
		}
	}
	c.t.Fatalf("node %d has no cluster_addr", i+1)
	return ""
}

// TestAFourthNodeJoinsUnderLoadThenAMemberIsRemovedWithNothingAcknowledgedLost:
// 12 HTTP senders spread over a 3-node cluster; node 4 joins through node
// 1's peer address (cluster_join) and receives its share of the slots'
// replicas; it serves sends; then node 1 is removed with `jindou cluster
// remove`, which returns once node 1 holds no replica, and node 1 is
// stopped. Every acknowledged send is in its channel's log, read from
// node 4, and the slots end on nodes 2, 3 and 4.
func TestAFourthNodeJoinsUnderLoadThenAMemberIsRemovedWithNothingAcknowledgedLost(t *testing.T) {
	c := startCluster(t, clusterOpts{nodes: 3})
	l := startLoad(c, 12)
	l.waitAcks(200, 30*time.Second)

	t0 := time.Now()
	four := startMember(t, 4, c.o.slots, c.peerOf(0), "JINDOU_CLUSTER_TOKEN="+c.token)
	ready := time.Since(t0)
	all := map[uint64]*proc{1: c.node(0), 2: c.node(1), 3: c.node(2), 4: four.p}
	waitPlaced(t, all, 3, 60*time.Second)
	t.Logf("node 4 ready %s after its start, every slot on its targets %s after", ready.Round(time.Millisecond), time.Since(t0).Round(time.Millisecond))
	led, held := ledOrHeld(c.node(1), 4)
	if held == 0 {
		t.Fatalf("node 4 joined and holds no replica")
	}
	t.Logf("node 4 holds %d of %d slots' replicas and leads %d", held, c.o.slots, led)
	sendThrough(t, l, four.p, 5)
	l.waitAcks(200, 30*time.Second)

	t0 = time.Now()
	out, err := exec.Command(jindouBin, "cluster", "remove", "1", "--url", c.node(1).HTTP, "--wait", "60s").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "node 1 holds no slot replica") {
		t.Fatalf("jindou cluster remove 1: %v\n%s", err, out)
	}
	t.Logf("jindou cluster remove 1 returned after %s: %s", time.Since(t0).Round(time.Millisecond), strings.TrimSpace(string(out)))
	waitPlaced(t, all, 3, 60*time.Second) // node 1 included: it must hold nothing
	if got := c.node(1).tableMembers(); got[1] != "removed" || got[4] != "active" {
		t.Fatalf("node 2's members after the removal: %v", got)
	}
	if !logHas(c.node(1), "cluster: member removed") || !logHas(four.p, "cluster: replica configurations changed") {
		t.Errorf("the removal or the replicas' moves were not logged at info")
	}
	c.stop(0)
	l.waitAcks(200, 30*time.Second)
	l.finish(four.p)
}

// sendThrough sends n messages into the load's first channels through p
// and counts them as the load's own.
func sendThrough(t *testing.T, l *load, p *proc, n int) {
	t.Helper()
	for k := range n {
		w, no := k%l.workers, fmt.Sprintf("via4-%d", k)
		var r struct {
			Data struct {
				MessageSeq uint64 `json:"message_seq"`
			} `json:"data"`
		}
		p.mustPost("/message/send", map[string]any{"from_uid": fmt.Sprintf("u%d", w), "channel_id": loadChannel(w),
			"channel_type": 2, "client_msg_no": no, "payload": []byte("payload of " + no)}, &r)
		if r.Data.MessageSeq == 0 {
			t.Fatalf("a send through node 4 was answered without a seq")
		}
		l.acked.Store(no, r.Data.MessageSeq)
		l.nAcked.Add(1)
	}
}

// TestAJoinWithATakenIDOrOtherSettingsIsRefusedNamingTheKey: a node that
// would join with the id of a member, another slot count or another
// cluster_replicas exits 1 with an error naming the key, and the cluster
// keeps its members; a node alone's data dir cannot join.
func TestAJoinWithATakenIDOrOtherSettingsIsRefusedNamingTheKey(t *testing.T) {
	one := startMember(t, 1, 8, "")
	two := startMember(t, 2, 8, one.peer)
	for _, c := range []struct {
		id, slots int
		env       []string
		want      string
	}{
		{2, 8, nil, "node_id: 2 is already a member of the cluster"},
		{3, 16, nil, "slots: this node has 16, the cluster's members 8"},
		{3, 8, []string{"JINDOU_CLUSTER_REPLICAS=2"}, "cluster_replicas: this node has 2, the cluster's members 3"},
	} {
		o, _ := loneOpts(t, c.id, c.slots, one.peer, c.env...)
		p := launch(t, o)
		if code := p.wait(30 * time.Second); code != 1 || !strings.Contains(p.Logs(), c.want) {
			t.Fatalf("node %d joining: exit %d, want 1 with %q:\n%s", c.id, code, c.want, p.Logs())
		}
	}
	// The data dir of a node that ran alone cannot join.
	alone := startMember(t, 5, 8, "")
	alone.p.signal(syscall.SIGTERM)
	alone.p.wait(30 * time.Second)
	alone.opts.env = append(alone.opts.env, "JINDOU_CLUSTER_JOIN="+one.peer)
	p := launch(t, alone.opts)
	if code := p.wait(30 * time.Second); code != 1 || !strings.Contains(p.Logs(), "a node joins a cluster with a fresh data dir") {
		t.Fatalf("a node alone's data dir joining: exit %d:\n%s", code, p.Logs())
	}
	if got := two.p.tableMembers(); len(got) != 2 {
		t.Fatalf("the refused joins changed the members: %v", got)
	}
}
