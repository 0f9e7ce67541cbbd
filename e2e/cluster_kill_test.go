package e2e

import (
	"os"
	"strconv"
	"testing"
	"time"
)

// clusterKills is how many kill -9 rounds TestClusterKill9... runs: 3, or
// E2E_CLUSTER_KILLS (make e2e-long sets 20; not JINDOU_: jindou refuses
// unknown JINDOU_ variables, and the nodes inherit the environment).
func clusterKills(t *testing.T) int {
	if v := os.Getenv("E2E_CLUSTER_KILLS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("E2E_CLUSTER_KILLS=%q is not a positive count", v)
		}
		return n
	}
	return 3
}

// TestClusterKill9OfTheBusiestLeaderLosesNoAcknowledgedSend: 24 senders
// spread over a 3-node cluster; again and again the node leading the most
// slots is killed with SIGKILL, the senders of its slots' channels move on
// to the other nodes, and the node is started again. Every send answered
// with a seq is in its channel's log at that seq, with no gaps or repeats.
// The failover time of a round is from the kill until every channel of
// the dead leader's slots has had a send answered again.
func TestClusterKill9OfTheBusiestLeaderLosesNoAcknowledgedSend(t *testing.T) {
	c := startCluster(t, clusterOpts{nodes: 3})
	l := startLoad(c, 24)
	var failovers []time.Duration
	for round := range clusterKills(t) {
		l.waitAcks(200, 60*time.Second)
		victim, led := c.busiestLeader(c.liveFrom(1))
		affected := l.workersIn(led)
		t0 := l.fault()
		c.kill9(victim)
		back := l.allAnsweredAgain(affected, 60*time.Second)
		failovers = append(failovers, back.Sub(t0))
		t.Logf("round %d: killed node %d (leader of %d slots, %d senders' channels): sends answered again after %v",
			round+1, victim+1, len(led), len(affected), back.Sub(t0).Round(time.Millisecond))
		c.restart(victim)
	}
	l.waitAcks(100, 60*time.Second)
	l.finish(c.node(0))
	t.Logf("failover over %d kills: p50 %v, max %v", len(failovers),
		percentile(failovers, 0.5).Round(time.Millisecond), percentile(failovers, 1).Round(time.Millisecond))
}
