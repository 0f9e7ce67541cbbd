package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// The bench against a cluster: --cluster reads the members' client and
// HTTP addresses from --http's GET /cluster/nodes, or --tcp and --http
// list them (comma-separated, in the same order). Client i of a run dials
// node i mod N, so that a person chat (client i to i+1) and a group's
// members span the nodes; the server's counters (CPU, stored messages,
// disk commits) are summed over every node's /metrics.

// loadNode is one node the load is spread over.
type loadNode struct {
	id        uint64
	tcp, http string
}

// resolveNodes fills o.nodes from --cluster or the --tcp and --http
// lists, and leaves o.http at the first node's API (group creation, token
// registration).
func (o *benchOpts) resolveNodes() error {
	if o.cluster {
		return o.readClusterNodes()
	}
	tcps := splitList(o.tcp)
	https := splitList(o.http)
	if len(tcps) == 0 || len(https) == 0 {
		return fmt.Errorf("--tcp and --http: at least one address each")
	}
	if len(https) > 1 && len(https) != len(tcps) {
		return fmt.Errorf("--http lists %d nodes and --tcp %d: give one HTTP address, or one per TCP address", len(https), len(tcps))
	}
	o.nodes = nil
	for i, tcp := range tcps {
		n := loadNode{id: uint64(i + 1), tcp: tcp}
		if len(https) > 1 {
			n.http = https[i]
		}
		o.nodes = append(o.nodes, n)
	}
	o.http = https[0]
	if len(https) == 1 {
		o.nodes[0].http = https[0] // the one node whose counters are read
	}
	return nil
}

// readClusterNodes asks --http for the members.
func (o *benchOpts) readClusterNodes() error {
	status, b, err := o.call(http.MethodGet, "/cluster/nodes", nil)
	if err != nil {
		return fmt.Errorf("--cluster: %w", err)
	}
	if status != http.StatusOK {
		return fmt.Errorf("--cluster: GET /cluster/nodes: HTTP %d: %s", status, b)
	}
	var r struct {
		Nodes []struct {
			ID       uint64 `json:"id"`
			TCPAddr  string `json:"tcp_addr"`
			HTTPAddr string `json:"http_addr"`
			Up       bool   `json:"up"`
			Self     bool   `json:"self"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return fmt.Errorf("--cluster: GET /cluster/nodes: %w", err)
	}
	o.nodes = nil
	var tcps []string
	for _, n := range r.Nodes {
		if !n.Up || n.TCPAddr == "" {
			continue
		}
		h := n.HTTPAddr
		if n.Self && h == "" {
			h = o.http
		}
		if h == "" {
			return fmt.Errorf("--cluster: node %d presents no HTTP address, so its CPU cannot be read", n.ID)
		}
		o.nodes = append(o.nodes, loadNode{id: n.ID, tcp: n.TCPAddr, http: h})
		tcps = append(tcps, n.TCPAddr)
	}
	if len(o.nodes) == 0 {
		return fmt.Errorf("--cluster: GET /cluster/nodes lists no member that is up with a TCP address")
	}
	o.tcp = strings.Join(tcps, ",")
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, a := range strings.Split(s, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// nodeOf is the index of the node client i dials.
func (o *benchOpts) nodeOf(i int) int { return i % len(o.nodes) }

// counterNodes are the nodes whose /metrics the run reads.
func (o *benchOpts) counterNodes() []loadNode {
	var out []loadNode
	for _, n := range o.nodes {
		if n.http != "" {
			out = append(out, n)
		}
	}
	return out
}

// sampleServers is sampleServer summed over the nodes: the CPU from each
// node's /metrics (a --pid names one process, so it is for a node alone).
func (o *benchOpts) sampleServers(pid int) (serverSample, string, error) {
	nodes := o.counterNodes()
	if len(nodes) <= 1 {
		return o.sampleServer(pid)
	}
	if pid != 0 {
		return serverSample{}, "", fmt.Errorf("--pid reads one process; the %d nodes' CPU is read from their /metrics", len(nodes))
	}
	var sum serverSample
	for _, n := range nodes {
		m, err := o.metricsOf(n.http)
		if err != nil {
			return sum, "", fmt.Errorf("node %d: %w", n.id, err)
		}
		cpu, ok := m[metricCPU]
		if !ok {
			return sum, "", fmt.Errorf("node %d: /metrics has no %s", n.id, metricCPU)
		}
		sum.cpu += cpu
		sum.stored += m[metricStored]
		sum.commits += m[metricDiskCommits]
	}
	return sum, fmt.Sprintf("/metrics %s of %d nodes", metricCPU, len(nodes)), nil
}

// nodesLabel says where the clients went, for the summaries.
func (o *benchOpts) nodesLabel() string {
	if len(o.nodes) <= 1 {
		return o.transport()
	}
	return fmt.Sprintf("tcp, clients spread over %d nodes (%s)", len(o.nodes), o.tcp)
}

// nodeFanout is a fan-out's deliveries to the members on one node.
type nodeFanout struct {
	Node           uint64  `json:"node"`
	TCP            string  `json:"tcp"`
	Members        int     `json:"members"`
	Delivered      int64   `json:"deliveries"`
	LastDeliveryMS float64 `json:"last_delivery_ms"`
}

// nodeCounts are the member readers' counters by node: the last
// delivery's time (unix nanoseconds) and the deliveries.
type nodeCounts struct{ last, delivered []atomic.Int64 }

func newNodeCounts(n int) *nodeCounts {
	return &nodeCounts{last: make([]atomic.Int64, max(n, 1)), delivered: make([]atomic.Int64, max(n, 1))}
}

// lastOfAll is the time of the last delivery on any node (0: none).
func (c *nodeCounts) lastOfAll() int64 {
	var last int64
	for i := range c.last {
		last = max(last, c.last[i].Load())
	}
	return last
}

// fanoutByNode is the split by node, for a run over more than one.
func (o *benchOpts) fanoutByNode(c *nodeCounts, members int, start time.Time) []nodeFanout {
	if len(o.nodes) <= 1 {
		return nil
	}
	out := make([]nodeFanout, len(o.nodes))
	for k, n := range o.nodes {
		out[k] = nodeFanout{Node: n.id, TCP: n.tcp, Members: members / len(o.nodes), Delivered: c.delivered[k].Load()}
		if k < members%len(o.nodes) {
			out[k].Members++
		}
		if last := c.last[k].Load(); last > 0 {
			out[k].LastDeliveryMS = float64(time.Unix(0, last).Sub(start)) / 1e6
		}
	}
	return out
}
