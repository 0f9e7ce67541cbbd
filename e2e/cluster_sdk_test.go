package e2e

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"
)

// conversations is uid's /conversation/sync on p, as raw JSON values.
func (p *proc) conversations(uid string) []map[string]any {
	p.t.Helper()
	var out []map[string]any
	p.mustPost("/conversation/sync", map[string]any{"uid": uid, "msg_count": 20}, &out)
	return out
}

// TestClusterOfficialSDKUsersOnTwoNodesChatAndAThirdReadsTheSame: with
// the official JS SDK, alice on node 1 and bob on node 2 chat in a person
// and a group channel (every send acknowledged with its seq, every message
// received and decrypted on the other node); node 3 reads the same
// history, and alice's and bob's conversations are the same on every
// node.
func TestClusterOfficialSDKUsersOnTwoNodesChatAndAThirdReadsTheSame(t *testing.T) {
	c := startCluster(t, clusterOpts{nodes: 3})
	sdkChatAcross(t, c.node(0), c.node(1), c.node(2), map[string]string{"alice": "", "bob": ""})
	for _, uid := range []string{"alice", "bob"} {
		want := c.node(0).conversations(uid)
		if len(want) != 2 {
			t.Fatalf("%s has %d conversations on node 1, want 2 (person and group): %v", uid, len(want), want)
		}
		for i := 1; i < 3; i++ {
			if got := c.node(i).conversations(uid); !reflect.DeepEqual(got, want) {
				g, _ := json.Marshal(got)
				w, _ := json.Marshal(want)
				t.Errorf("%s's conversations on node %d:\n%s\non node 1:\n%s", uid, i+1, g, w)
			}
		}
	}
}

// TestClusterRouteHandsOutLiveMembersAndNodesShowsTheLinks: /route?uid=
// answers with the client addresses of a member (each node learnt the
// others' in the peer handshake), spread over the members; once node 3 is
// killed, /cluster/nodes shows its link down and /route never hands it
// out.
func TestClusterRouteHandsOutLiveMembersAndNodesShowsTheLinks(t *testing.T) {
	c := startCluster(t, clusterOpts{nodes: 3})
	addrs := map[string]int{}
	for i := range 3 {
		addrs[c.node(i).TCP] = i
	}
	routed := func() map[int]int {
		seen := map[int]int{}
		for u := range 60 {
			var r struct {
				TCP string `json:"tcp_addr"`
				WS  string `json:"ws_addr"`
			}
			c.node(0).getJSON(fmt.Sprintf("/route?uid=user-%d", u), &r)
			i, ok := addrs[r.TCP]
			if !ok || r.WS != c.node(i).WS {
				t.Fatalf("/route handed out %+v, not a member's addresses", r)
			}
			seen[i]++
		}
		return seen
	}
	if seen := routed(); len(seen) != 3 {
		t.Fatalf("/route spread 60 users over %v, want all three nodes", seen)
	}
	c.kill9(2)
	waitFor(t, 10*time.Second, "node 3's link down on node 1", func() bool {
		var r struct {
			Nodes []struct {
				ID uint64 `json:"id"`
				Up bool   `json:"up"`
			} `json:"nodes"`
		}
		c.node(0).getJSON("/cluster/nodes", &r)
		return len(r.Nodes) == 3 && r.Nodes[0].Up && r.Nodes[1].Up && !r.Nodes[2].Up
	})
	if seen := routed(); seen[2] != 0 || len(seen) != 2 {
		t.Fatalf("with node 3 dead /route spread users over %v", seen)
	}
}
