package node

import (
	"errors"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

func TestDataDirRefusesAnotherNodeIDOrClusterAndKeepsOldSingleNodeDirs(t *testing.T) {
	three := clusterID([]uint64{3, 1, 2})
	if three != clusterID([]uint64{1, 2, 3, 2}) {
		t.Fatalf("the cluster id depends on the order or repeats of the member list")
	}
	if three == clusterID([]uint64{1, 2, 4}) || clusterID(nil) != singleCluster {
		t.Fatalf("cluster ids: %s %s %s", three, clusterID([]uint64{1, 2, 4}), clusterID(nil))
	}
	fs := vfs.NewMem()
	want := dataMeta{Format: metaFormat, Slots: 8, NodeID: 2, Cluster: three}
	if err := checkMetaFS(fs, "d", want); err != nil {
		t.Fatal(err)
	}
	if err := checkMetaFS(fs, "d", want); err != nil {
		t.Fatalf("the same start again: %v", err)
	}
	other := want
	other.NodeID = 3
	err := checkMetaFS(fs, "d", other)
	if !errors.Is(err, ErrOtherNode) || !strings.Contains(err.Error(), "node_id 2") {
		t.Fatalf("another node id: %v", err)
	}
	other = want
	other.Cluster = clusterID([]uint64{1, 2, 4})
	if err := checkMetaFS(fs, "d", other); !errors.Is(err, ErrOtherNode) || !strings.Contains(err.Error(), "cluster") {
		t.Fatalf("another cluster: %v", err)
	}
	// A data dir of a single node from before node ids were recorded.
	if err := fs.MkdirAll("old", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := writeMeta(fs, "old", fs.PathJoin("old", metaFile), dataMeta{Format: metaFormat, Slots: 8}); err != nil {
		t.Fatal(err)
	}
	single := dataMeta{Format: metaFormat, Slots: 8, NodeID: 1, Cluster: singleCluster}
	if err := checkMetaFS(fs, "old", single); err != nil {
		t.Fatalf("an old data dir: %v", err)
	}
	have, err := readMeta(fs, fs.PathJoin("old", metaFile))
	if err != nil || have != single {
		t.Fatalf("an old data dir's meta after a start: %+v %v, want %+v", have, err, single)
	}
	single.NodeID = 5
	if err := checkMetaFS(fs, "old", single); !errors.Is(err, ErrOtherNode) {
		t.Fatalf("an old data dir, once recorded, started as another node: %v", err)
	}
}

func TestAJoinedNodeKeepsTheClusterIDItJoinedAndAOneMemberListIsANodeAlone(t *testing.T) {
	joined := Config{Join: true, Members: []uint64{1}, JoinCluster: clusterID([]uint64{1, 2, 3})}
	if joined.ClusterID() != clusterID([]uint64{1, 2, 3}) {
		t.Fatalf("a joining node's cluster id: %s", joined.ClusterID())
	}
	if (Config{Members: []uint64{4}}).ClusterID() != singleCluster {
		t.Fatalf("a one-member list is not a node alone: %s", (Config{Members: []uint64{4}}).ClusterID())
	}
	fs := vfs.NewMem()
	want := dataMeta{Format: metaFormat, Slots: 8, NodeID: 4, Cluster: joined.ClusterID(), Joined: true}
	if err := checkMetaFS(fs, "d", want); err != nil {
		t.Fatal(err)
	}
	got, err := ReadDataDirMeta(fs, "d")
	if err != nil || got != (DataDirMeta{NodeID: 4, Cluster: want.Cluster, Joined: true}) {
		t.Fatalf("read back: %+v %v", got, err)
	}
	other := want
	other.Cluster = singleCluster
	if err := checkMetaFS(fs, "d", other); !errors.Is(err, ErrOtherNode) {
		t.Fatalf("a joined node's data dir started in another cluster: %v", err)
	}
	// A data dir written as a cluster of one listed member before that
	// was "single" starts as a node alone, and others may join it.
	legacy := dataMeta{Format: metaFormat, Slots: 8, NodeID: 7, Cluster: oneMemberCluster(7)}
	if err := checkMetaFS(fs, "l", legacy); err != nil {
		t.Fatal(err)
	}
	if err := checkMetaFS(fs, "l", dataMeta{Format: metaFormat, Slots: 8, NodeID: 7, Cluster: singleCluster}); err != nil {
		t.Fatalf("a legacy one-member data dir as a node alone: %v", err)
	}
	// A node alone's data dir, with its data, cannot join a cluster.
	if err := checkMetaFS(fs, "l", dataMeta{Format: metaFormat, Slots: 8, NodeID: 7, Cluster: clusterID([]uint64{1, 2}), Joined: true}); !errors.Is(err, ErrOtherNode) || !strings.Contains(err.Error(), "fresh data dir") {
		t.Fatalf("a node alone's data dir joining: %v", err)
	}
	if got, _ := ReadDataDirMeta(fs, "none"); got != (DataDirMeta{}) {
		t.Fatalf("no META.json: %+v", got)
	}
}
