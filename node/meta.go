package node

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"slices"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// metaFile, inside Config.DataDir, records what the data was written with
// and may not change while the data lives:
//   - the slot count: a channel's slot is a hash modulo the count, so
//     another count would look for every channel in another slot and hide
//     its data;
//   - the node id: raft groups know this replica by it, and another id
//     would make the node vote and answer as a member it is not;
//   - the cluster id (clusterID): data of one cluster started in another
//     would join raft groups whose logs it does not share.
//
// A data dir of a version before node ids and cluster ids were recorded
// has neither; the first start fills them in.
const metaFile = "META.json"

// metaFormat is the version of metaFile's layout.
const metaFormat = 1

// singleCluster is the cluster id of a node without Members.
const singleCluster = "single"

// dataMeta is metaFile's content. NodeID and Cluster are empty in a data
// dir written before they were recorded.
type dataMeta struct {
	Format  int    `json:"format"`
	Slots   int    `json:"slots"`
	NodeID  uint64 `json:"node_id,omitempty"`
	Cluster string `json:"cluster,omitempty"`
}

// ErrSlotsChanged: the data dir was written with another slot count.
var ErrSlotsChanged = errors.New("the slot count is fixed for a data dir")

// ErrOtherNode: the data dir belongs to another node id or another
// cluster.
var ErrOtherNode = errors.New("the data dir belongs to another node")

// clusterID names a member list: "single" for a cluster of one, else
// "c-" and 16 hex digits of an FNV-1a hash of the sorted, distinct ids.
// Every member of a cluster computes the same id.
func clusterID(members []uint64) string {
	if len(members) == 0 {
		return singleCluster
	}
	ids := slices.Clone(members)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	h := fnv.New64a()
	var b [8]byte
	for _, id := range ids {
		binary.BigEndian.PutUint64(b[:], id)
		h.Write(b[:])
	}
	return fmt.Sprintf("c-%016x", h.Sum64())
}

// ClusterID is the cluster id Config's member list gives (what META.json
// records): "single" without Members.
func (c Config) ClusterID() string { return clusterID(c.Members) }

// checkMeta compares the data dir's metaFile with the configuration, or
// writes it (synced, then renamed into place) when the data dir has none.
func (n *Node) checkMeta() error {
	want := dataMeta{Format: metaFormat, Slots: n.cfg.Slots, NodeID: uint64(n.env.Node()), Cluster: clusterID(n.cfg.Members)}
	return checkMetaFS(n.env.Disk().FS(), n.cfg.DataDir, want)
}

// checkMetaFS is checkMeta on the file system fs.
func checkMetaFS(fs vfs.FS, dir string, want dataMeta) error {
	if err := fs.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("node: data dir: %w", err)
	}
	path := fs.PathJoin(dir, metaFile)
	have, err := readMeta(fs, path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return writeMeta(fs, dir, path, want)
	case err != nil:
		return fmt.Errorf("node: %s: %w", metaFile, err)
	case have.Slots != want.Slots:
		return fmt.Errorf("node: %w: the data was written with slots %d, this start asks for slots %d; start with slots: %d (or a fresh data dir)",
			ErrSlotsChanged, have.Slots, want.Slots, have.Slots)
	case have.NodeID != 0 && have.NodeID != want.NodeID:
		return fmt.Errorf("node: %w: the data was written by node_id %d, this start is node_id %d; start with node_id: %d (or a fresh data dir)",
			ErrOtherNode, have.NodeID, want.NodeID, have.NodeID)
	case have.Cluster != "" && have.Cluster != want.Cluster:
		return fmt.Errorf("node: %w: the data was written in cluster %s (%s), this start's cluster_nodes make cluster %s (%s); start with the member list the data dir was made with (or a fresh data dir)",
			ErrOtherNode, have.Cluster, describeCluster(have.Cluster), want.Cluster, describeCluster(want.Cluster))
	case have.NodeID == 0 || have.Cluster == "":
		// Written before node ids and cluster ids were recorded: record them.
		return writeMeta(fs, dir, path, want)
	}
	return nil
}

// describeCluster says what a cluster id stands for.
func describeCluster(id string) string {
	if id == singleCluster {
		return "a node alone, no cluster_nodes"
	}
	return "a hash of the member ids"
}

func readMeta(fs vfs.FS, path string) (dataMeta, error) {
	var m dataMeta
	f, err := fs.Open(path)
	if err != nil {
		return m, err
	}
	defer f.Close()
	raw, err := io.ReadAll(f)
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return m, fmt.Errorf("unreadable (%v): move it away only if you know the data dir's slot count", err)
	}
	if m.Format != metaFormat || m.Slots < 1 {
		return m, fmt.Errorf("format %d with slots %d: not a layout this version knows", m.Format, m.Slots)
	}
	return m, nil
}

func writeMeta(fs vfs.FS, dir, path string, m dataMeta) error {
	raw, err := json.Marshal(m)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	f, err := fs.Create(tmp, vfs.WriteCategoryUnspecified)
	if err != nil {
		return fmt.Errorf("node: write %s: %w", metaFile, err)
	}
	_, err = f.Write(append(raw, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = fs.Rename(tmp, path)
	}
	if err == nil {
		err = syncDir(fs, dir)
	}
	if err == nil { // the data dir itself may be new
		err = syncDir(fs, fs.PathDir(dir))
	}
	if err != nil {
		return fmt.Errorf("node: write %s: %w", metaFile, err)
	}
	return nil
}

func syncDir(fs vfs.FS, dir string) error {
	d, err := fs.OpenDir(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
