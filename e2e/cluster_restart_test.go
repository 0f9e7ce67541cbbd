package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/wkclient"
)

// TestClusterRollingRestartUnderLoadLosesNoAcknowledgedSend: under 24
// senders, each node in turn is stopped with SIGTERM and started again;
// every acknowledged send is in its channel's log at its seq.
func TestClusterRollingRestartUnderLoadLosesNoAcknowledgedSend(t *testing.T) {
	c := startCluster(t, clusterOpts{nodes: 3})
	l := startLoad(c, 24)
	for i := range 3 {
		l.waitAcks(150, 60*time.Second)
		c.stop(i)
		l.waitAcks(50, 60*time.Second) // the other two carry on
		c.restart(i)
		t.Logf("node %d restarted", i+1)
	}
	l.waitAcks(100, 60*time.Second)
	l.finish(c.node(2))
}

// TestClusterClientStayingOnOneNodeReceivesEverythingThroughSerialRestarts:
// a client stays connected to node 1 while every other node is restarted,
// one after the other (so every slot's leadership moves); after each
// restart, messages sent to it on the restarted node (a group and a person
// channel) all reach it, in order.
func TestClusterClientStayingOnOneNodeReceivesEverythingThroughSerialRestarts(t *testing.T) {
	c := startCluster(t, clusterOpts{nodes: 3})
	const group = "serial-group"
	c.node(0).mustPost("/channel", map[string]any{"channel_id": group, "channel_type": 2, "subscribers": []string{"watcher", "talker"}}, nil)
	watcher := dialTCP(t, c.node(0), "watcher")
	var groupSeq, personSeq uint64
	for round, i := range []int{1, 2, 1, 2} {
		c.stop(i)
		c.restart(i)
		for k := range 5 {
			for _, ch := range []struct {
				id  string
				typ uint8
				seq *uint64
			}{{group, 2, &groupSeq}, {"watcher", 1, &personSeq}} {
				no := fmt.Sprintf("r%d-%s-%d", round, ch.id, k)
				c.node(i).mustPost("/message/send", map[string]any{"from_uid": "talker", "channel_id": ch.id, "channel_type": ch.typ,
					"client_msg_no": no, "payload": []byte(no)}, nil)
				*ch.seq++
				expectRecv(t, watcher, no, *ch.seq)
			}
		}
		t.Logf("round %d: node %d restarted; the client on node 1 got all 10 messages sent through it", round+1, i+1)
	}
}

// expectRecv waits for the RECV of client_msg_no no at seq and acks it.
func expectRecv(t *testing.T, c *wkclient.NetClient, no string, seq uint64) {
	t.Helper()
	r := next[*proto.Recv](t, c, "RECV of "+no)
	if r.ClientMsgNo != no || r.MessageSeq != seq {
		t.Fatalf("RECV %s at seq %d, want %s at seq %d", r.ClientMsgNo, r.MessageSeq, no, seq)
	}
	if err := c.Ack(r); err != nil {
		t.Fatal(err)
	}
}

// TestClusterWithOneNodeDownReadsCompleteHistoryAndConversations: person
// and group messages sent through every node; then, with each node down
// in turn, both other nodes read every message in the history and the
// same conversations as with all three up.
func TestClusterWithOneNodeDownReadsCompleteHistoryAndConversations(t *testing.T) {
	c := startCluster(t, clusterOpts{nodes: 3})
	const group = "down-group"
	c.node(0).mustPost("/channel", map[string]any{"channel_id": group, "channel_type": 2, "subscribers": []string{"alice", "bob"}}, nil)
	for k := range 30 {
		from, to, typ := "alice", "bob", uint8(1)
		if k%2 == 1 {
			to, typ = group, 2
		}
		c.node(k%3).mustPost("/message/send", map[string]any{"from_uid": from, "channel_id": to, "channel_type": typ,
			"client_msg_no": fmt.Sprint("m", k), "payload": []byte(fmt.Sprint("m", k))}, nil)
	}
	wantConv := c.node(0).conversations("bob")
	if len(wantConv) != 2 {
		t.Fatalf("bob's conversations: %v", wantConv)
	}
	for down := range 3 {
		c.kill9(down)
		for i := range 3 {
			if i == down {
				continue
			}
			n := c.node(i)
			if p, g := len(n.history("bob", "alice", 1)), len(n.history("alice", group, 2)); p != 15 || g != 15 {
				t.Fatalf("node %d down: node %d reads %d person and %d group messages, want 15 and 15", down+1, i+1, p, g)
			}
			if got := n.conversations("bob"); fmt.Sprint(got) != fmt.Sprint(wantConv) {
				t.Fatalf("node %d down: node %d has bob's conversations\n%v\nwant\n%v", down+1, i+1, got, wantConv)
			}
		}
		c.restart(down)
	}
}
