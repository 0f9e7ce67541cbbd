package main

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jindou-im/jindou/runtime"
)

// clusterConfig is the cluster_* keys, checked: members sorted by id.
// Empty members and join: a node alone, a cluster of one that others may
// join when addr is set (cluster_addr with cluster_token).
type clusterConfig struct {
	members  []clusterMember
	join     string // cluster_join: a member's peer address
	addr     string // the peer listener
	token    string
	replicas int
}

// clusterMember is one entry of cluster_nodes, id@peer_addr.
type clusterMember struct {
	id   uint64
	addr string
}

// cluster checks the cluster_* keys against each other and node_id.
func (c *Config) cluster() (clusterConfig, error) {
	out := clusterConfig{addr: c.ClusterAddr, token: c.ClusterToken, replicas: c.ClusterReplicas, join: strings.TrimSpace(c.ClusterJoin)}
	if c.ClusterReplicas < 1 {
		return out, fmt.Errorf("config: cluster_replicas: %d is below 1", c.ClusterReplicas)
	}
	switch {
	case out.join != "" && len(c.ClusterNodes) > 0:
		return out, fmt.Errorf("config: cluster_join and cluster_nodes: set one of them, not both (cluster_nodes for the members of a new cluster, cluster_join for a node joining a running one)")
	case out.join != "":
		return out, c.joinCluster(&out)
	case len(c.ClusterNodes) == 0:
		return out, c.loneCluster(out)
	}
	members, err := parseMembers(c.ClusterNodes)
	if err != nil {
		return out, err
	}
	i := slices.IndexFunc(members, func(m clusterMember) bool { return m.id == c.NodeID })
	if i < 0 {
		return out, fmt.Errorf("config: cluster_nodes: this node_id %d is not among the members %s; add %d@<its peer address> (the same list on every node)",
			c.NodeID, memberIDs(members), c.NodeID)
	}
	if out.addr == "" {
		out.addr = members[i].addr
	}
	if err := checkListenAddr(out.addr); err != nil {
		return out, fmt.Errorf("config: cluster_addr: %w", err)
	}
	if c.ClusterToken == "" {
		return out, fmt.Errorf("config: cluster_token: required with cluster_nodes (the same secret on every member)")
	}
	out.members = members
	return out, nil
}

// joinCluster checks the keys of a node joining a running cluster.
func (c *Config) joinCluster(out *clusterConfig) error {
	if err := checkListenAddr(out.join); err != nil {
		return fmt.Errorf("config: cluster_join: %w (the peer address of a member, for example 10.0.0.1:11110)", err)
	}
	if c.ClusterToken == "" {
		return fmt.Errorf("config: cluster_token: required with cluster_join (the cluster's secret)")
	}
	if c.ClusterAddr == "" {
		return fmt.Errorf("config: cluster_addr: required with cluster_join (this node's peer listener, which the members dial)")
	}
	if err := checkListenAddr(c.ClusterAddr); err != nil {
		return fmt.Errorf("config: cluster_addr: %w", err)
	}
	if !fixedPort(c.ClusterAddr) {
		return fmt.Errorf("config: cluster_addr: %q: a joining node needs a fixed port (the members dial it at this address)", c.ClusterAddr)
	}
	return nil
}

// loneCluster checks a node without cluster_nodes or cluster_join: alone,
// or with cluster_addr and cluster_token a cluster of one that others may
// join.
func (c *Config) loneCluster(out clusterConfig) error {
	switch {
	case c.ClusterAddr == "" && c.ClusterToken == "":
		return nil
	case c.ClusterAddr == "":
		return fmt.Errorf("config: cluster_token needs cluster_nodes, cluster_join or cluster_addr (a node alone that others may join)")
	case c.ClusterToken == "":
		return fmt.Errorf("config: cluster_token: required with cluster_addr (the secret the nodes that join present)")
	}
	if err := checkListenAddr(out.addr); err != nil {
		return fmt.Errorf("config: cluster_addr: %w", err)
	}
	return nil
}

// parseMembers reads cluster_nodes entries, id@host:port, sorted by id.
func parseMembers(entries []string) ([]clusterMember, error) {
	var out []clusterMember
	for _, e := range entries {
		idText, addr, ok := strings.Cut(e, "@")
		id, err := strconv.ParseUint(strings.TrimSpace(idText), 10, 64)
		if !ok || err != nil || id == 0 {
			return nil, fmt.Errorf("config: cluster_nodes: %q is not id@host:port with an id above 0 (for example 1@10.0.0.1:11110)", e)
		}
		addr = strings.TrimSpace(addr)
		if err := checkListenAddr(addr); err != nil {
			return nil, fmt.Errorf("config: cluster_nodes: %q: %w", e, err)
		}
		if slices.ContainsFunc(out, func(m clusterMember) bool { return m.id == id }) {
			return nil, fmt.Errorf("config: cluster_nodes: node id %d is listed twice", id)
		}
		if j := slices.IndexFunc(out, func(m clusterMember) bool { return m.addr == addr }); j >= 0 {
			return nil, fmt.Errorf("config: cluster_nodes: nodes %d and %d have the same address %s", out[j].id, id, addr)
		}
		out = append(out, clusterMember{id: id, addr: addr})
	}
	slices.SortFunc(out, func(a, b clusterMember) int { return cmp.Compare(a.id, b.id) })
	return out, nil
}

func memberIDs(ms []clusterMember) string {
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = strconv.FormatUint(m.id, 10)
	}
	return "[" + strings.Join(ids, " ") + "]"
}

// ids are the members' node ids (node.Config.Members); nil for a node
// alone.
func (cc clusterConfig) ids() []uint64 {
	var out []uint64
	for _, m := range cc.members {
		out = append(out, m.id)
	}
	return out
}

// peers are the other members' peer addresses (reactor.Config.Peers).
func (cc clusterConfig) peers(self uint64) map[runtime.NodeID]string {
	out := map[runtime.NodeID]string{}
	for _, m := range cc.members {
		if m.id != self {
			out[runtime.NodeID(m.id)] = m.addr
		}
	}
	return out
}

// peerListen is the peer listener's address; empty for a node alone
// that no other may join.
func (cc clusterConfig) peerListen() string {
	if len(cc.members) == 0 && cc.join == "" && cc.token == "" {
		return ""
	}
	return cc.addr
}

// clustered reports whether the node talks to peers: a member list, a
// join, or a node alone that others may join.
func (cc clusterConfig) clustered() bool { return cc.peerListen() != "" }
