package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/node/state"
)

// partitionEnv shortens the HTTP API's wait so that a request the
// isolated side cannot serve answers 503 quickly.
var partitionEnv = []string{"JINDOU_REQUEST_TIMEOUT=3s"}

// channelLedBy is a new group channel whose slot is one of led.
func channelLedBy(led map[int]bool, slots int) string {
	for k := 0; ; k++ {
		ch := fmt.Sprint("iso-", k)
		if led[state.SlotOfChannel(state.ChannelKey{Type: proto.ChannelGroup, ID: ch}, slots)] {
			return ch
		}
	}
}

// TestClusterIsolatedLeaderStopsAcknowledgingAndTheMajorityContinues: the
// node leading the most slots is cut off from both others (toxiproxy, both
// ways) under 24 senders. A client on the isolated node sending into one
// of its slots gets a SENDACK with a retryable reason within the send
// timeout, not a hang, and an HTTP send there answers 503; the senders of
// its slots' channels, moved to the majority, are answered again; once
// the links heal, the client's repeat is answered with a seq, every
// replica converges on one leader and applied index per slot, and nothing
// acknowledged is lost.
func TestClusterIsolatedLeaderStopsAcknowledgingAndTheMajorityContinues(t *testing.T) {
	c := startCluster(t, clusterOpts{nodes: 3, proxied: true, env: partitionEnv})
	victim, led := c.busiestLeader(0)
	ch := channelLedBy(led, c.o.slots)
	c.node(0).mustPost("/channel", map[string]any{"channel_id": ch, "channel_type": 2, "subscribers": []string{"iso"}}, nil)
	client := dialTCP(t, c.node(victim), "iso")
	l := startLoad(c, 24)
	l.waitAcks(200, 60*time.Second)

	t0 := l.fault()
	c.down[victim].Store(true) // the senders move to the majority
	c.isolate(victim)
	if _, err := client.Send(ch, proto.ChannelGroup, "iso-1", []byte("from the minority")); err != nil {
		t.Fatal(err)
	}
	// The gateway answers after its send timeout (10 s) at the latest.
	pk, err := client.Next(time.Now().Add(20 * time.Second))
	ack, ok := pk.(*proto.Sendack)
	if err != nil || !ok {
		t.Fatalf("the isolated node did not answer the send within 20 s: %v %T", err, pk)
	}
	if ack.ReasonCode == proto.ReasonSuccess {
		t.Fatalf("the isolated node acknowledged a send into its slot: %+v", ack)
	}
	t.Logf("isolated node: SENDACK reason %d after %v", ack.ReasonCode, time.Since(t0).Round(time.Millisecond))
	err = c.node(victim).post("/message/send", map[string]any{"from_uid": "iso", "channel_id": ch, "channel_type": 2,
		"client_msg_no": "iso-http", "payload": []byte("x")}, nil)
	if err == nil || !containsAny(err.Error(), "503") {
		t.Fatalf("an HTTP send on the isolated node: %v, want 503", err)
	}
	back := l.allAnsweredAgain(l.workersIn(led), 30*time.Second)
	t.Logf("majority: the isolated leader's slots answer again after %v", back.Sub(t0).Round(time.Millisecond))
	l.waitAcks(200, 30*time.Second)

	c.rejoin(victim)
	c.down[victim].Store(false)
	if _, err := client.Send(ch, proto.ChannelGroup, "iso-1", []byte("from the minority")); err != nil {
		t.Fatal(err)
	}
	// The HTTP send that answered 503 may have landed meanwhile (503:
	// outcome unknown), so RECVs may come before the SENDACK.
	deadline := time.Now().Add(30 * time.Second)
	for {
		pk, err := client.Next(deadline)
		if err != nil {
			t.Fatalf("no SENDACK with a seq for the repeat within 30 s of healing: %v", err)
		}
		if r, ok := pk.(*proto.Recv); ok {
			_ = client.Ack(r)
			continue
		}
		if a, ok := pk.(*proto.Sendack); ok && a.ReasonCode == proto.ReasonSuccess && a.MessageSeq > 0 {
			break
		}
		_, _ = client.Send(ch, proto.ChannelGroup, "iso-1", []byte("from the minority"))
	}
	if h := c.node(0).history("iso", ch, 2); len(h) == 0 || len(h) > 2 || h[len(h)-1].ClientMsgNo != "iso-1" && h[0].ClientMsgNo != "iso-1" {
		t.Fatalf("the isolated client's channel after healing: %+v, want iso-1 once (and iso-http at most once)", h)
	}
	l.finish(c.node(victim))
	c.waitConverged(30 * time.Second)
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		for i := 0; i+len(sub) <= len(s); i++ {
			if s[i:i+len(sub)] == sub {
				return true
			}
		}
	}
	return false
}

// TestClusterSlowAndOneWayCutLinksLoseNothing: under 24 senders, first
// every link of one node gets 150 ms (±37 ms) of latency, then the busiest
// leader's outgoing links are cut one way (it still hears the others),
// then, healed, the next busiest leader's incoming links are cut one way
// (it still sends); the slots move to leaders that can commit, sends keep
// being answered, and after healing nothing acknowledged is lost and every
// replica converges.
func TestClusterSlowAndOneWayCutLinksLoseNothing(t *testing.T) {
	c := startCluster(t, clusterOpts{nodes: 3, proxied: true, env: partitionEnv})
	l := startLoad(c, 24)
	l.waitAcks(200, 60*time.Second)
	for j := 1; j < 3; j++ {
		c.slow(0, j, 150)
		c.slow(j, 0, 150)
	}
	l.waitAcks(300, 60*time.Second)
	for j := 1; j < 3; j++ {
		c.unslow(0, j)
		c.unslow(j, 0)
	}
	t.Logf("slow links of node 1: %d sends answered so far", l.nAcked.Load())

	for round, outgoing := range []bool{true, false} {
		victim, led := c.busiestLeader(0)
		t0 := l.fault()
		c.eachLinkOf(victim, outgoing, c.cut)
		back := l.allAnsweredAgain(l.workersIn(led), 30*time.Second)
		t.Logf("round %d: node %d's %s links cut: its slots' sends answered again after %v", round+1, victim+1,
			map[bool]string{true: "outgoing", false: "incoming"}[outgoing], back.Sub(t0).Round(time.Millisecond))
		l.waitAcks(100, 30*time.Second)
		c.eachLinkOf(victim, outgoing, c.heal)
	}
	l.finish(c.node(0))
	c.waitConverged(30 * time.Second)
}
