package main

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/runtime"
)

// coreCluster is what node.Config and the transport get of the cluster:
// the members (a joining node: the one it asked), whether the node joins,
// its peer address as the table records it, the cluster it joins, or the
// id of the cluster born with it (a node alone).
type coreCluster struct {
	members     []uint64
	join        bool
	peerAddr    string
	joinCluster string
	clusterName string
	peers       map[runtime.NodeID]string
}

// How a joining node asks the member it was given who it is
// (reactor.Host.ProbePeer): each try within probeTimeout; a new node tries
// for joinProbeFor (the member may be starting), a node that joined before
// for rejoinProbeFor (it knows the table: the member may be gone).
const (
	probeTimeout   = 2 * time.Second
	probeInterval  = 500 * time.Millisecond
	joinProbeFor   = 30 * time.Second
	rejoinProbeFor = 3 * time.Second
)

// planCluster turns the checked cluster_* keys and the data dir's META
// into the core's cluster settings. A node with cluster_join, or whose
// data dir says it joined, is a joiner: it asks the member at cluster_join
// which node it is and which cluster, checks that it may join it (an id
// no member has, the same slots, loops and replica count; on a restart,
// the same cluster), and asks to be admitted through it.
func (s *server) planCluster(cc clusterConfig) (coreCluster, error) {
	out := coreCluster{members: cc.ids(), peers: cc.peers(s.cfg.NodeID)}
	meta, err := node.ReadDataDirMeta(vfs.Default, filepath.Join(s.cfg.DataDir, storeDir))
	if err != nil {
		return out, err
	}
	if cc.join == "" && !meta.Joined {
		if len(cc.members) <= 1 {
			out.clusterName, err = bornClusterName(meta)
		}
		return out, err
	}
	if !cc.clustered() {
		return out, fmt.Errorf("config: cluster_addr: this data dir joined cluster %s; it needs cluster_addr and cluster_token (and may keep cluster_join)", meta.Cluster)
	}
	out.join, out.peerAddr = true, advertisedPeer(cc.addr)
	if cc.join == "" {
		s.log.Info("cluster: this node joined its cluster before; it starts from the cluster table it holds", "cluster", meta.Cluster)
		return out, nil
	}
	probeFor := joinProbeFor
	if meta.Joined {
		probeFor = rejoinProbeFor
	}
	id, card, err := s.probeMember(cc.join, probeFor)
	if err != nil {
		if meta.Joined {
			s.log.Warn("cluster: the member at cluster_join does not answer; this node joined before and starts from the cluster table it holds",
				"cluster_join", cc.join, "err", err)
			return out, nil
		}
		return out, fmt.Errorf("cluster_join: %s: %w (is a member listening there, with this cluster_token, and is this node_id not that member's own?)", cc.join, err)
	}
	if err := s.checkJoin(cc, meta, card); err != nil {
		return out, err
	}
	out.members, out.joinCluster = []uint64{uint64(id)}, card.Cluster
	out.peers[id] = cc.join
	for pid, addr := range card.Peers {
		if _, ok := out.peers[runtime.NodeID(pid)]; !ok && pid != s.cfg.NodeID && addr != "" {
			out.peers[runtime.NodeID(pid)] = addr
		}
	}
	if meta.Joined {
		s.log.Info("cluster: restarting as a member of the cluster it joined", "cluster", card.Cluster, "members", card.Members, "peer_addr", out.peerAddr)
	} else {
		s.log.Info("cluster: joining", "through", id, "at", cc.join, "cluster", card.Cluster, "members", card.Members, "peer_addr", out.peerAddr)
	}
	return out, nil
}

// probeMember asks the peer listener at addr which node it is, retrying
// for up to d.
func (s *server) probeMember(addr string, d time.Duration) (runtime.NodeID, nodeCard, error) {
	var card nodeCard
	deadline := time.Now().Add(d)
	warned := false
	for {
		id, raw, err := s.host.ProbePeer(addr, probeTimeout)
		if err == nil {
			if err := json.Unmarshal(raw, &card); err != nil {
				return 0, card, fmt.Errorf("the member's card is not readable: %w", err)
			}
			return id, card, nil
		}
		if time.Now().After(deadline) {
			return 0, card, err
		}
		if !warned {
			warned = true
			s.log.Warn("cluster: the member at cluster_join does not answer the peer handshake yet; retrying (a wrong cluster_token is refused so too)",
				"cluster_join", addr, "for", d, "err", err)
		}
		time.Sleep(probeInterval)
	}
}

// bornClusterName is a node alone's cluster id (node.Config.ClusterName):
// the one its data dir recorded, or a new one for a fresh data dir, so
// that every cluster grown from a node alone has an id of its own. A data
// dir that recorded "single" (made before ids were born so) keeps it.
func bornClusterName(meta node.DataDirMeta) (string, error) {
	if meta.Cluster != "" {
		if strings.HasPrefix(meta.Cluster, "g-") {
			return meta.Cluster, nil
		}
		return "", nil
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("cluster id: %w", err)
	}
	return node.NewClusterName(b), nil
}

// checkJoin refuses a join that would break the cluster: an id a member
// has, another slot count, loop count or replica count than the members'
// (every member applies the same table with its own settings), or a data
// dir of another cluster.
func (s *server) checkJoin(cc clusterConfig, meta node.DataDirMeta, card nodeCard) error {
	if card.Cluster == "" {
		return fmt.Errorf("cluster_join: the member at %s does not say its cluster (is it a jindou of this version?)", cc.join)
	}
	if meta.Joined && meta.Cluster != card.Cluster {
		return fmt.Errorf("cluster_join: the member at %s is of cluster %s, this data dir joined cluster %s; a data dir stays in its cluster (or start with a fresh one)",
			cc.join, card.Cluster, meta.Cluster)
	}
	if !meta.Joined && slices.Contains(card.Members, s.cfg.NodeID) {
		return fmt.Errorf("config: node_id: %d is already a member of the cluster (members %v); a new node needs an id no member has",
			s.cfg.NodeID, card.Members)
	}
	for _, c := range []struct {
		key        string
		mine, them int
	}{{"slots", s.cfg.Slots, card.Slots}, {"slot_loops", s.cfg.SlotLoops, card.SlotLoops},
		{"gateway_loops", s.cfg.GatewayLoops, card.GatewayLoops}, {"cluster_replicas", cc.replicas, card.Replicas}} {
		if c.mine != c.them {
			return fmt.Errorf("config: %s: this node has %d, the cluster's members %d; every member must have the same", c.key, c.mine, c.them)
		}
	}
	return nil
}

// advertisedPeer is a peer listener's address as other hosts dial it: an
// unspecified host (0.0.0.0, ::) becomes the host's first non-loopback
// address.
func advertisedPeer(addr string) string {
	if addr == "" {
		return ""
	}
	a, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		return addr
	}
	out, _ := reachable(a, hostIP)
	return out
}

// fixedPort reports whether addr names a port other than 0: the members
// dial a joining node at the address it gives.
func fixedPort(addr string) bool {
	_, port, err := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(port)
	return err == nil && n > 0
}
