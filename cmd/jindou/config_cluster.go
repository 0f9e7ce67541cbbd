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
// Empty members: a node alone.
type clusterConfig struct {
	members  []clusterMember
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
	out := clusterConfig{addr: c.ClusterAddr, token: c.ClusterToken, replicas: c.ClusterReplicas}
	if c.ClusterReplicas < 1 {
		return out, fmt.Errorf("config: cluster_replicas: %d is below 1", c.ClusterReplicas)
	}
	if len(c.ClusterNodes) == 0 {
		if c.ClusterAddr != "" || c.ClusterToken != "" {
			return out, fmt.Errorf("config: cluster_addr and cluster_token need cluster_nodes (the members, id@peer_addr)")
		}
		return out, nil
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

// peerListen is the peer listener's address; empty for a node alone.
func (cc clusterConfig) peerListen() string {
	if len(cc.members) == 0 {
		return ""
	}
	return cc.addr
}
