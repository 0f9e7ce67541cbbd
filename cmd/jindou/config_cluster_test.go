package main

import (
	"strings"
	"testing"

	"github.com/jindou-im/jindou/runtime"
)

func TestClusterKeysComeFromEveryLayerAndWireTheMembers(t *testing.T) {
	file := writeFile(t, "cluster_nodes:\n  - 1@127.0.0.1:11110\n  - 3@127.0.0.1:11112\n  - 2@127.0.0.1:11111\ncluster_token: s3cret\n")
	cfg, err := loadConfig(file, []string{"JINDOU_CLUSTER_REPLICAS=2"}, flags(t, "--node-id", "2"))
	if err != nil {
		t.Fatal(err)
	}
	cc, err := cfg.cluster()
	if err != nil {
		t.Fatal(err)
	}
	if ids := cc.ids(); len(ids) != 3 || ids[0] != 1 || ids[2] != 3 || cc.replicas != 2 || cc.token != "s3cret" {
		t.Fatalf("cluster: %+v", cc)
	}
	if cc.peerListen() != "127.0.0.1:11111" {
		t.Fatalf("the peer listener defaults to this node's entry, got %q", cc.peerListen())
	}
	if p := cc.peers(2); len(p) != 2 || p[runtime.NodeID(3)] != "127.0.0.1:11112" {
		t.Fatalf("peers: %v", p)
	}
	cfg, err = loadConfig("", []string{"JINDOU_CLUSTER_NODES=1@a:1,2@b:2", "JINDOU_CLUSTER_TOKEN=t"},
		flags(t, "--cluster-addr", "0.0.0.0:7000"))
	if err != nil {
		t.Fatal(err)
	}
	if cc, _ := cfg.cluster(); cc.peerListen() != "0.0.0.0:7000" || len(cc.members) != 2 {
		t.Fatalf("cluster_addr from a flag: %+v", cc)
	}
}

func TestEmptyClusterNodesIsANodeAlone(t *testing.T) {
	cfg, err := loadConfig("", nil, flags(t))
	if err != nil {
		t.Fatal(err)
	}
	cc, err := cfg.cluster()
	if err != nil || cc.ids() != nil || cc.peerListen() != "" || len(cc.peers(1)) != 0 {
		t.Fatalf("a node alone: %+v %v", cc, err)
	}
}

func TestMalformedClusterSettingsAreRefusedNamingTheProblem(t *testing.T) {
	for _, c := range []struct {
		env  []string
		want string
	}{
		{[]string{"JINDOU_CLUSTER_NODES=1@127.0.0.1:1,2-127.0.0.1:2", "JINDOU_CLUSTER_TOKEN=t"}, `"2-127.0.0.1:2" is not id@host:port`},
		{[]string{"JINDOU_CLUSTER_NODES=0@127.0.0.1:1", "JINDOU_CLUSTER_TOKEN=t"}, "id above 0"},
		{[]string{"JINDOU_CLUSTER_NODES=1@127.0.0.1", "JINDOU_CLUSTER_TOKEN=t"}, "is not host:port"},
		{[]string{"JINDOU_CLUSTER_NODES=1@127.0.0.1:1,1@127.0.0.1:2", "JINDOU_CLUSTER_TOKEN=t"}, "node id 1 is listed twice"},
		{[]string{"JINDOU_CLUSTER_NODES=1@127.0.0.1:1,2@127.0.0.1:1", "JINDOU_CLUSTER_TOKEN=t"}, "the same address"},
		{[]string{"JINDOU_CLUSTER_NODES=2@127.0.0.1:1,3@127.0.0.1:2", "JINDOU_CLUSTER_TOKEN=t"}, "node_id 1 is not among the members [2 3]"},
		{[]string{"JINDOU_CLUSTER_NODES=1@127.0.0.1:1,2@127.0.0.1:2"}, "cluster_token: required"},
		{[]string{"JINDOU_CLUSTER_TOKEN=t"}, "cluster_token needs cluster_nodes, cluster_join or cluster_addr"},
		{[]string{"JINDOU_CLUSTER_ADDR=127.0.0.1:1"}, "cluster_token: required with cluster_addr"},
		{[]string{"JINDOU_CLUSTER_JOIN=127.0.0.1:1", "JINDOU_CLUSTER_NODES=1@127.0.0.1:2", "JINDOU_CLUSTER_TOKEN=t"}, "cluster_join and cluster_nodes: set one of them"},
		{[]string{"JINDOU_CLUSTER_JOIN=127.0.0.1:1", "JINDOU_CLUSTER_ADDR=127.0.0.1:2"}, "cluster_token: required with cluster_join"},
		{[]string{"JINDOU_CLUSTER_JOIN=127.0.0.1:1", "JINDOU_CLUSTER_TOKEN=t"}, "cluster_addr: required with cluster_join"},
		{[]string{"JINDOU_CLUSTER_JOIN=127.0.0.1", "JINDOU_CLUSTER_ADDR=127.0.0.1:2", "JINDOU_CLUSTER_TOKEN=t"}, "cluster_join: "},
		{[]string{"JINDOU_CLUSTER_REPLICAS=0"}, "cluster_replicas: 0 is below 1"},
	} {
		_, err := loadConfig("", c.env, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: got %v, want an error with %q", c.env, err, c.want)
		}
	}
}

func TestBenchSpreadsClientsOverTheTCPAddressesInTurn(t *testing.T) {
	o := &benchOpts{tcp: "127.0.0.1:1, 127.0.0.1:2,127.0.0.1:3"}
	var got []string
	for range 4 {
		got = append(got, o.nextTCP())
	}
	if strings.Join(got, " ") != "127.0.0.1:1 127.0.0.1:2 127.0.0.1:3 127.0.0.1:1" {
		t.Fatalf("dials went to %v", got)
	}
	if one := (&benchOpts{tcp: "127.0.0.1:9"}); one.nextTCP() != "127.0.0.1:9" || one.nextTCP() != "127.0.0.1:9" {
		t.Fatal("a single address is not always dialled")
	}
}

func TestANodeAloneWithAPeerListenerIsAClusterOfOneAndAJoinerNamesAMember(t *testing.T) {
	cfg, err := loadConfig("", []string{"JINDOU_CLUSTER_ADDR=127.0.0.1:11110", "JINDOU_CLUSTER_TOKEN=t"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cc, err := cfg.cluster()
	if err != nil || cc.ids() != nil || cc.peerListen() != "127.0.0.1:11110" || !cc.clustered() {
		t.Fatalf("a node alone others may join: %+v %v", cc, err)
	}
	cfg, err = loadConfig("", []string{"JINDOU_NODE_ID=4", "JINDOU_CLUSTER_ADDR=127.0.0.1:11113", "JINDOU_CLUSTER_TOKEN=t"},
		flags(t, "--cluster-join", "127.0.0.1:11110"))
	if err != nil {
		t.Fatal(err)
	}
	cc, err = cfg.cluster()
	if err != nil || cc.join != "127.0.0.1:11110" || cc.ids() != nil || cc.peerListen() != "127.0.0.1:11113" {
		t.Fatalf("a joiner: %+v %v", cc, err)
	}
	if _, err := loadConfig("", []string{"JINDOU_CLUSTER_JOIN=127.0.0.1:1", "JINDOU_CLUSTER_ADDR=127.0.0.1:0", "JINDOU_CLUSTER_TOKEN=t"}, nil); err == nil ||
		!strings.Contains(err.Error(), "a joining node needs a fixed port") {
		t.Fatalf("a joiner on port 0: %v", err)
	}
}
