package http

import (
	"fmt"
	"strings"
	"testing"
)

func TestRouteHandsAUidALiveMemberAndClusterRoutesAnswer(t *testing.T) {
	nodes := []ClusterNode{
		{ID: 1, TCPAddr: "10.0.0.1:5100", WSAddr: "ws://10.0.0.1:5200", Self: true, Up: true},
		{ID: 2, TCPAddr: "10.0.0.2:5100", WSAddr: "ws://10.0.0.2:5200", Up: false},
		{ID: 3, TCPAddr: "10.0.0.3:5100", WSAddr: "ws://10.0.0.3:5200", Up: true},
	}
	s := newTestServer(t, Config{ServerID: 1, TCPAddr: "10.0.0.1:5100", Cluster: func() []ClusterNode {
		return append([]ClusterNode(nil), nodes...)
	}})
	seen := map[string]int{}
	for u := range 40 {
		var r map[string]string
		get(t, s, fmt.Sprint("/route?uid=user-", u)).json(t, &r)
		seen[r["tcp_addr"]]++
		var again map[string]string
		get(t, s, fmt.Sprint("/route?uid=user-", u)).json(t, &again)
		if again["tcp_addr"] != r["tcp_addr"] {
			t.Fatalf("user-%d routed to %s, then %s", u, r["tcp_addr"], again["tcp_addr"])
		}
	}
	if seen["10.0.0.2:5100"] != 0 || seen["10.0.0.1:5100"] == 0 || seen["10.0.0.3:5100"] == 0 {
		t.Fatalf("40 users routed to %v: want both live members, never the down one", seen)
	}
	var self map[string]string
	get(t, s, "/route").json(t, &self)
	if self["tcp_addr"] != "10.0.0.1:5100" {
		t.Fatalf("/route without a uid: %v, want this node", self)
	}
	var cn struct {
		NodeID uint64        `json:"node_id"`
		Nodes  []ClusterNode `json:"nodes"`
	}
	get(t, s, "/cluster/nodes").json(t, &cn)
	if cn.NodeID != 1 || len(cn.Nodes) != 3 || cn.Nodes[1].Up || cn.Nodes[0].LeaderSlots != 8 {
		t.Fatalf("/cluster/nodes: %+v (a node alone leads all 8 slots)", cn)
	}
	var cs struct {
		Slots []struct {
			Slot   int    `json:"slot"`
			Leader uint64 `json:"leader"`
			Role   string `json:"role"`
		} `json:"slots"`
	}
	get(t, s, "/cluster/slots").json(t, &cs)
	if len(cs.Slots) != 8 || cs.Slots[7].Slot != 7 || cs.Slots[0].Leader != 1 || cs.Slots[0].Role != "leader" {
		t.Fatalf("/cluster/slots: %+v", cs)
	}
}

func TestClusterRemoveNamesNodeIDOnABadBodyAnUnknownMemberOrTheLastOne(t *testing.T) {
	s := newTestServer(t, Config{ServerID: 1})
	for _, c := range []struct{ body, want string }{
		{`{}`, "node_id: required"},
		{`{"node_id":0}`, "node_id: required"},
		{`{"node_id":"x"}`, "node_id"},
		{`{"node_id":9}`, "node_id: 9 is not an active member"},
		{`{"node_id":1}`, "node_id: 1 is the last member"},
	} {
		r := post(t, s, "/cluster/nodes/remove", c.body)
		if r.code != 400 || !strings.Contains(r.body, c.want) {
			t.Errorf("%s: %d %s, want 400 with %q", c.body, r.code, r.body, c.want)
		}
	}
	withToken := newTestServer(t, Config{ServerID: 1, ManagerToken: "m"})
	if r := post(t, withToken, "/cluster/nodes/remove", `{"node_id":1}`); r.code != 401 {
		t.Errorf("without the manager token: %d %s, want 401", r.code, r.body)
	}
}

func TestReadyzWaitsUntilThisNodeIsAMemberOfTheAppliedTable(t *testing.T) {
	member := newTestServer(t, Config{ServerID: 1})
	if r := get(t, member, "/readyz"); r.code != 200 {
		t.Fatalf("a member: %d %s", r.code, r.body)
	}
	// The shared node's table names node 1 only: a server of node 7 is
	// one that has not been admitted yet.
	joining := newTestServer(t, Config{ServerID: 7})
	r := get(t, joining, "/readyz")
	if r.code != 503 || !strings.Contains(r.body, "cluster: joining, not yet a member of the cluster table") {
		t.Fatalf("a node not in the table: %d %s", r.code, r.body)
	}
}
