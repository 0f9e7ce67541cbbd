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
	"strings"

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
//     would join raft groups whose logs it does not share. The id is born
//     with the cluster: a node alone (a cluster of one that others may
//     join) is "single", a cluster started from a member list is a hash of
//     the list; a node that joins records the id of the cluster it joined
//     (Config.JoinCluster), so every member keeps the id it was born with
//     however the members change.
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
	// Joined: the node joined a running cluster (Config.Join). It stays a
	// joiner on every later start, whatever its configuration says: a
	// joiner has no initial placement, and one computed on a restart
	// would make it take slots it never held for fresh ones.
	Joined bool `json:"joined,omitempty"`
}

// ErrSlotsChanged: the data dir was written with another slot count.
var ErrSlotsChanged = errors.New("the slot count is fixed for a data dir")

// ErrOtherNode: the data dir belongs to another node id or another
// cluster.
var ErrOtherNode = errors.New("the data dir belongs to another node")

// clusterID names a member list: "single" for a cluster of one (or none), else
// "c-" and 16 hex digits of an FNV-1a hash of the sorted, distinct ids.
// Every member of a cluster computes the same id.
func clusterID(members []uint64) string {
	ids := slices.Clone(members)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) <= 1 {
		return singleCluster
	}
	h := fnv.New64a()
	var b [8]byte
	for _, id := range ids {
		binary.BigEndian.PutUint64(b[:], id)
		h.Write(b[:])
	}
	return fmt.Sprintf("c-%016x", h.Sum64())
}

// ClusterID is the cluster id META.json records: JoinCluster on a node
// that joins, else what Config's member list gives ("single" for one
// member or none).
func (c Config) ClusterID() string {
	if c.Join && c.JoinCluster != "" {
		return c.JoinCluster
	}
	if id := clusterID(c.Members); id != singleCluster || c.ClusterName == "" {
		return id
	}
	return c.ClusterName
}

// checkMeta compares the data dir's metaFile with the configuration, or
// writes it (synced, then renamed into place) when the data dir has none.
//
// A data dir of a node that joined keeps it a joiner of the cluster it
// joined (dataMeta.Joined): Join is set, and JoinCluster when not given.
func (n *Node) checkMeta() error {
	fs := n.env.Disk().FS()
	if have, err := readMeta(fs, fs.PathJoin(n.cfg.DataDir, metaFile)); err == nil && have.Joined {
		n.cfg.Join = true
		if n.cfg.JoinCluster == "" {
			n.cfg.JoinCluster = have.Cluster
		}
	}
	want := dataMeta{Format: metaFormat, Slots: n.cfg.Slots, NodeID: uint64(n.env.Node()), Cluster: n.cfg.ClusterID(), Joined: n.cfg.Join}
	return checkMetaFS(fs, n.cfg.DataDir, want)
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
	case want.Joined && !have.Joined:
		return fmt.Errorf("node: %w: the data dir holds the data of node_id %d (cluster %s); a node joins a cluster with a fresh data dir",
			ErrOtherNode, have.NodeID, have.Cluster)
	case have.Cluster != "" && !sameCluster(have, want):
		return fmt.Errorf("node: %w: the data was written in cluster %s (%s), this start makes cluster %s (%s); start with the cluster_nodes the data dir was made with, or the cluster_join of a member of its cluster (or a fresh data dir)",
			ErrOtherNode, have.Cluster, describeCluster(have.Cluster), want.Cluster, describeCluster(want.Cluster))
	case have.NodeID == 0 || have.Cluster == "":
		// Written before node ids and cluster ids were recorded: record them.
		return writeMeta(fs, dir, path, want)
	}
	return nil
}

// sameCluster reports whether the data dir's cluster is want's. A data dir
// written as a cluster of one listed member (before such a cluster was
// "single") is the same as a node alone.
func sameCluster(have, want dataMeta) bool {
	if have.Cluster == want.Cluster {
		return true
	}
	oneMember := func(m dataMeta) bool {
		return m.Cluster == singleCluster || m.Cluster == oneMemberCluster(m.NodeID)
	}
	return oneMember(have) && oneMember(want) && have.NodeID == want.NodeID
}

// oneMemberCluster is the id a data dir of a cluster of one listed member
// recorded before such a cluster was "single".
func oneMemberCluster(id uint64) string {
	h := fnv.New64a()
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], id)
	h.Write(b[:])
	return fmt.Sprintf("c-%016x", h.Sum64())
}

// DataDirMeta is what a data dir's META.json records: the node id and the
// cluster id (empty when the data dir has no META.json, or one written
// before they were recorded).
type DataDirMeta struct {
	NodeID  uint64
	Cluster string
	Joined  bool
}

// ReadDataDirMeta reads META.json in dir (Config.DataDir) on fs: the
// process reads it before it starts the node, to tell a restart of a node
// that joined from a new one. A missing file is no error.
func ReadDataDirMeta(fs vfs.FS, dir string) (DataDirMeta, error) {
	m, err := readMeta(fs, fs.PathJoin(dir, metaFile))
	if errors.Is(err, os.ErrNotExist) {
		return DataDirMeta{}, nil
	}
	if err != nil {
		return DataDirMeta{}, fmt.Errorf("node: %s: %w", metaFile, err)
	}
	return DataDirMeta{NodeID: m.NodeID, Cluster: m.Cluster, Joined: m.Joined}, nil
}

// describeCluster says what a cluster id stands for.
func describeCluster(id string) string {
	switch {
	case id == singleCluster:
		return "a node alone, or a cluster grown from one by joins"
	case strings.HasPrefix(id, bornClusterPrefix):
		return "born with a node alone, kept by the cluster grown from it"
	}
	return "a hash of the member ids"
}

// bornClusterPrefix starts the id of a cluster born with a node alone
// (Config.ClusterName).
const bornClusterPrefix = "g-"

// NewClusterName is a fresh cluster id for a node alone (Config.ClusterName)
// made of the 8 random bytes given.
func NewClusterName(random [8]byte) string {
	return fmt.Sprintf("%s%016x", bornClusterPrefix, binary.BigEndian.Uint64(random[:]))
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
