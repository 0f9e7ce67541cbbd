package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestANodeAloneWithHistoryGrowsToThreeNodesAndEveryNodeReadsItAll: node
// 1 runs alone (with a peer listener and a token: a cluster of one) and
// holds person and group messages and conversations; it is restarted,
// then nodes 2 and 3 join through it. Every message and conversation is
// read the same from every node, every slot ends on 3 replicas, the ids
// are distinct, and a restart of a joined node keeps it a member.
func TestANodeAloneWithHistoryGrowsToThreeNodesAndEveryNodeReadsItAll(t *testing.T) {
	const slots, group = 8, "upgrade-group"
	one := startMember(t, 1, slots, "")
	one.p.mustPost("/channel", map[string]any{"channel_id": group, "channel_type": 2, "subscribers": []string{"alice", "bob", "carol"}}, nil)
	const n = 40
	for k := range n {
		to, typ := "bob", uint8(1)
		if k%2 == 1 {
			to, typ = group, 2
		}
		one.p.mustPost("/message/send", map[string]any{"from_uid": "alice", "channel_id": to, "channel_type": typ,
			"client_msg_no": fmt.Sprint("u", k), "payload": []byte(fmt.Sprint("u", k))}, nil)
	}
	want := map[string]string{}
	for _, uid := range []string{"alice", "bob", "carol"} {
		want[uid] = convJSON(t, one.p, uid)
	}
	// A restart of the node alone keeps everything (its data dir is a
	// cluster of one).
	one.p.signal(syscall.SIGTERM)
	one.p.wait(30 * time.Second)
	one.restart(t)

	two := startMember(t, 2, slots, one.peer)
	three := startMember(t, 3, slots, two.peer) // through a member that joined
	nodes := map[uint64]*proc{1: one.p, 2: two.p, 3: three.p}
	waitPlaced(t, nodes, 3, 60*time.Second)
	for id, p := range nodes {
		if got := p.tableMembers(); len(got) != 3 || got[1] != "active" || got[2] != "active" || got[3] != "active" {
			t.Fatalf("node %d's members: %v", id, got)
		}
		checkUpgradeHistory(t, p, id, group, n)
		for _, uid := range []string{"alice", "bob", "carol"} {
			if got := convJSON(t, p, uid); got != want[uid] {
				t.Fatalf("node %d: %s's conversations\n%s\nwant\n%s", id, uid, got, want[uid])
			}
		}
	}
	if !logHas(one.p, "cluster: member joined") || !logHas(one.p, "cluster: slot replicas rebalanced") {
		t.Errorf("node 1 did not log the joins at info:\n%s", one.p.Logs())
	}
	// A joined node restarts as the member it is, cluster_join still set.
	led, _ := ledOrHeld(one.p, 3)
	three.p.signal(syscall.SIGTERM)
	three.p.wait(30 * time.Second)
	if lines := three.p.LogLines("cluster: leaderships handed off before the stop"); len(lines) != 1 ||
		lines[0]["still_led"] != float64(0) || (led > 0 && lines[0]["transfers"] == float64(0)) {
		t.Errorf("node 3, leading %d slots, stopped without handing them off: %v", led, lines)
	}
	three.restart(t)
	nodes[3] = three.p
	if logHas(three.p, "cluster: joining") || !logHas(three.p, "cluster: restarting as a member") ||
		strings.Count(one.p.Logs(), `"msg":"cluster: member joined","member":3,`) != 1 {
		t.Errorf("node 3 joined again on its restart:\n%s", three.p.Logs())
	}
	waitPlaced(t, nodes, 3, 60*time.Second)
	checkUpgradeHistory(t, three.p, 3, group, n)
}

// checkUpgradeHistory requires p to read the n messages: half person, half
// group, in order.
func checkUpgradeHistory(t *testing.T, p *proc, id uint64, group string, n int) {
	t.Helper()
	person, grp := p.history("bob", "alice", 1), p.history("alice", group, 2)
	if len(person) != n/2 || len(grp) != n/2 {
		t.Fatalf("node %d reads %d person and %d group messages, want %d each", id, len(person), len(grp), n/2)
	}
	for i, m := range grp {
		if m.MessageSeq != uint64(i+1) || string(m.Payload) != fmt.Sprint("u", 2*i+1) {
			t.Fatalf("node %d: group message %d is seq %d %q", id, i, m.MessageSeq, m.Payload)
		}
	}
}

// convJSON is uid's conversations on p as JSON, to compare across nodes.
func convJSON(t *testing.T, p *proc, uid string) string {
	t.Helper()
	b, err := json.Marshal(p.conversations(uid))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
