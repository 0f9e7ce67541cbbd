package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestTwoClustersGrownFromNodesAloneHaveTheirOwnIDs: two nodes alone are
// born with cluster ids of their own, and a node that joined one of them
// keeps that id in its data dir; started again with cluster_join naming a
// member of the other cluster, it is refused naming both ids instead of
// taking that cluster's peers for its own.
func TestTwoClustersGrownFromNodesAloneHaveTheirOwnIDs(t *testing.T) {
	const slots = 4
	a := startMember(t, 1, slots, "")
	b := startMember(t, 1, slots, "")
	idA, idB := metaCluster(t, a.opts.dataDir), metaCluster(t, b.opts.dataDir)
	if !strings.HasPrefix(idA, "g-") || !strings.HasPrefix(idB, "g-") || idA == idB {
		t.Fatalf("the clusters born with two nodes alone have ids %q and %q, want two distinct g- ids", idA, idB)
	}
	joiner := startMember(t, 2, slots, a.peer)
	if got := metaCluster(t, joiner.opts.dataDir); got != idA {
		t.Fatalf("the node that joined cluster %s recorded %q", idA, got)
	}
	joiner.p.signal(syscall.SIGTERM)
	joiner.p.wait(30 * time.Second)
	o := joiner.opts
	o.env = append(append([]string(nil), o.env...), "JINDOU_CLUSTER_JOIN="+b.peer) // the later value wins
	q := launch(t, o)
	want := "is of cluster " + idB + ", this data dir joined cluster " + idA
	if code := q.wait(60 * time.Second); code != 1 || !strings.Contains(q.Logs(), want) {
		t.Fatalf("a member of cluster %s started to join cluster %s: exit %d, want 1 with %q:\n%s", idA, idB, code, want, q.Logs())
	}
	// A restart of node alone b keeps its id (a's cluster has lost its
	// second member: no quorum).
	b.p.signal(syscall.SIGTERM)
	b.p.wait(30 * time.Second)
	b.restart(t)
	if got := metaCluster(t, b.opts.dataDir); got != idB {
		t.Fatalf("node alone restarted: cluster %q, was %q", got, idB)
	}
}

// metaCluster is the cluster id a data dir's META.json records.
func metaCluster(t *testing.T, dataDir string) string {
	t.Helper()
	var paths []string
	_ = filepath.Walk(dataDir, func(p string, info os.FileInfo, err error) error {
		if err == nil && info.Name() == "META.json" {
			paths = append(paths, p)
		}
		return nil
	})
	if len(paths) != 1 {
		t.Fatalf("%s: META.json found %d times", dataDir, len(paths))
	}
	raw, err := os.ReadFile(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Cluster string `json:"cluster"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m.Cluster
}
