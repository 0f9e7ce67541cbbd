package e2e

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// metric is the value of the unlabelled metric name at p's /metrics (0
// when absent).
func (p *proc) metric(name string) float64 {
	p.t.Helper()
	resp, err := http.Get(p.HTTP + "/metrics")
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return f
		}
	}
	return 0
}

// TestClusterPeerWithAWrongTokenIsRefusedAndTheRightOneAdmitted: node 3
// is replaced by a process with its id, data dir and addresses but another
// cluster_token. Nodes 1 and 2 refuse its connections (counted at
// /metrics, logged once), it refuses theirs, it never becomes ready, and
// they go on serving without it; node 3 started again with the right
// token is admitted.
func TestClusterPeerWithAWrongTokenIsRefusedAndTheRightOneAdmitted(t *testing.T) {
	c := startCluster(t, clusterOpts{nodes: 3})
	c.kill9(2)
	o := c.opts[2]
	o.env = append(append([]string(nil), o.env...), "JINDOU_CLUSTER_TOKEN=not-the-token")
	imp := launch(t, o)
	imp.awaitServing()
	n1 := c.node(0)
	waitFor(t, 20*time.Second, "node 1 refusing the impostor's connections and the impostor node 1's", func() bool {
		return n1.metric("jindou_peer_handshakes_refused_total") >= 3 && n1.metric("jindou_peer_handshakes_rejected_total") >= 1
	})
	if got := strings.Count(n1.Logs(), "reactor: peer connection refused"); got != 1 {
		t.Fatalf("node 1 logged %d refusals of one episode, want 1 (and a count at /metrics)", got)
	}
	if !strings.Contains(imp.Logs(), "peer connection refused") || !strings.Contains(imp.Logs(), "peer refused this node's connection") {
		t.Fatalf("the impostor does not log the refusals both ways:\n%s", imp.Logs())
	}
	if resp, err := http.Get(imp.HTTP + "/readyz"); err != nil || resp.StatusCode == http.StatusOK {
		t.Fatalf("the impostor is ready (%v)", err)
	}
	var r struct {
		Nodes []struct {
			Up bool `json:"up"`
		} `json:"nodes"`
	}
	n1.getJSON("/cluster/nodes", &r)
	if !r.Nodes[1].Up || r.Nodes[2].Up {
		t.Fatalf("node 1 sees links %+v: node 2 up, node 3 down expected", r.Nodes)
	}
	for i := range 5 {
		n1.mustPost("/message/send", map[string]any{"from_uid": "a", "channel_id": "b", "channel_type": 1,
			"client_msg_no": fmt.Sprint("tok-", i), "payload": []byte("still serving")}, nil)
	}
	imp.signal(syscall.SIGTERM)
	imp.wait(30 * time.Second)
	c.restart(2)
	waitFor(t, 20*time.Second, "node 3 with the right token admitted", func() bool {
		n1.getJSON("/cluster/nodes", &r)
		return r.Nodes[2].Up
	})
	if h := c.node(2).history("a", "b", 1); len(h) != 5 {
		t.Fatalf("node 3 reads %d of the 5 messages sent while it was replaced", len(h))
	}
}

// TestClusterDataDirOfAnotherNodeOrClusterIsRefused: a data dir written by
// node 1 alone refuses a start as node 2, and a start as a member of a
// cluster, each with an error naming what the data dir was written with;
// the data dir still starts as what it was.
func TestClusterDataDirOfAnotherNodeOrClusterIsRefused(t *testing.T) {
	dir := t.TempDir()
	p := startNode(t, nodeOpts{dataDir: dir})
	p.signal(syscall.SIGTERM)
	p.wait(20 * time.Second)
	for _, c := range []struct {
		env  []string
		want string
	}{
		{[]string{"JINDOU_NODE_ID=2"}, "the data was written by node_id 1, this start is node_id 2"},
		{[]string{"JINDOU_CLUSTER_NODES=1@127.0.0.1:1,2@127.0.0.1:2", "JINDOU_CLUSTER_TOKEN=t"}, "the data was written in cluster g-"},
	} {
		q := launch(t, nodeOpts{dataDir: dir, env: c.env})
		if code := q.wait(20 * time.Second); code != 1 || !strings.Contains(q.Logs(), c.want) {
			t.Fatalf("%v on node 1's data dir: exit %d, want 1 with %q:\n%s", c.env, code, c.want, q.Logs())
		}
	}
	startNode(t, nodeOpts{dataDir: dir})
}
