package main

import (
	"encoding/json"
	"net"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	jhttp "github.com/jindou-im/jindou/http"
	"github.com/jindou-im/jindou/runtime/reactor"
)

// nodeCard is what a node presents to its peers in the peer handshake:
// the addresses /route hands to clients and its HTTP API; and what a node
// that joins must know and agree with: the cluster's id, its active
// members, the peer addresses this node knows (members listed in
// cluster_nodes are in no table: a joiner learns their addresses so), and
// the settings every member must share. So every member learns every
// other member's client addresses without configuring them twice
// (docs/CLUSTER.md, "In production").
type nodeCard struct {
	TCPAddr  string `json:"tcp_addr,omitempty"`
	WSAddr   string `json:"ws_addr,omitempty"`
	WSSAddr  string `json:"wss_addr,omitempty"`
	HTTPAddr string `json:"http_addr,omitempty"`

	Cluster      string            `json:"cluster,omitempty"`
	Members      []uint64          `json:"members,omitempty"`
	Peers        map[uint64]string `json:"peers,omitempty"`
	Slots        int               `json:"slots,omitempty"`
	SlotLoops    int               `json:"slot_loops,omitempty"`
	GatewayLoops int               `json:"gateway_loops,omitempty"`
	Replicas     int               `json:"replicas,omitempty"`
}

// card is this node's nodeCard, encoded; the reactor calls it at each peer
// handshake. The client addresses are in it once the core has started
// (the listeners are bound then); a join's probe goes before.
func (s *server) card() []byte {
	c := nodeCard{Slots: s.cfg.Slots, SlotLoops: s.cfg.SlotLoops, GatewayLoops: s.cfg.GatewayLoops, Replicas: s.cfg.ClusterReplicas}
	if s.cl.up.Load() {
		tcp, ws := s.externalAddrs()
		c.TCPAddr, c.WSAddr, c.WSSAddr, c.HTTPAddr = tcp, ws, s.cfg.ExternalWSSAddr, "http://"+s.httpAdvertised()
	}
	c.Cluster, c.Members, c.Peers = s.cl.cardFields()
	b, _ := json.Marshal(c)
	return b
}

// httpAdvertised is the HTTP listener's address as another host dials it.
func (s *server) httpAdvertised() string {
	a, err := net.ResolveTCPAddr("tcp", s.cfg.HTTPAddr)
	if err != nil {
		return s.cfg.HTTPAddr
	}
	addr, _ := reachable(a, hostIP)
	return addr
}

// clusterNodes lists the members for /cluster/nodes and /route: this node
// with its own addresses, the others with the cards their handshakes
// carried and their link state; the members of the applied cluster table,
// or those of cluster_nodes until it is known.
func (s *server) clusterNodes(cc clusterConfig) func() []jhttp.ClusterNode {
	return func() []jhttp.ClusterNode {
		links := map[uint64]reactor.PeerLink{}
		for _, l := range s.host.PeerStats().Links {
			links[uint64(l.Node)] = l
		}
		members := s.cl.memberList(cc)
		out := make([]jhttp.ClusterNode, 0, len(members))
		for _, m := range members {
			n := jhttp.ClusterNode{ID: m.id, PeerAddr: m.addr, Status: m.status}
			var c nodeCard
			if m.id == s.cfg.NodeID {
				n.Self, n.Up = true, true
				_ = json.Unmarshal(s.card(), &c)
			} else if l, ok := links[m.id]; ok {
				n.Up, n.Since = l.Up, l.Since
				_ = json.Unmarshal(l.Card, &c)
			}
			n.TCPAddr, n.WSAddr, n.WSSAddr, n.HTTPAddr = c.TCPAddr, c.WSAddr, c.WSSAddr, c.HTTPAddr
			out = append(out, n)
		}
		return out
	}
}

// clusterCollector is the cluster's metrics: each peer link's state and
// the transport's counters (from the host), the core's leader changes and
// forwarded requests (from node.Stats).
type clusterCollector struct{ s *server }

var (
	descPeerUp       = prometheus.NewDesc("jindou_peer_link_up", "1 while a checked peer connection to or from the member is open.", []string{"peer"}, nil)
	descPeerSent     = prometheus.NewDesc("jindou_peer_messages_sent_total", "Messages written to peer connections.", nil, nil)
	descPeerDropped  = prometheus.NewDesc("jindou_peer_messages_dropped_total", "Messages to peers dropped (peer unknown or unreachable, queue full, write failed).", nil, nil)
	descPeerReceived = prometheus.NewDesc("jindou_peer_messages_received_total", "Messages from peers delivered to a loop.", nil, nil)
	descPeerRefused  = prometheus.NewDesc("jindou_peer_handshakes_refused_total", "Inbound peer connections refused (a wrong cluster_token, a malformed hello).", nil, nil)
	descPeerRejected = prometheus.NewDesc("jindou_peer_handshakes_rejected_total", "Outbound peer connections the peer refused.", nil, nil)
	descPeerLinkUps  = prometheus.NewDesc("jindou_peer_link_ups_total", "Times a peer link came up.", nil, nil)
	descLeaderChange = prometheus.NewDesc("jindou_slot_leader_changes_total", "Times a slot became led by this node.", nil, nil)
	descForwarded    = prometheus.NewDesc("jindou_requests_forwarded_total", "Requests passed on to another member's slot loop.", nil, nil)
	descLeaderless   = prometheus.NewDesc("jindou_leaderless_slots", "Replicated slots whose leader is unknown here.", nil, nil)
)

func (c clusterCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descPeerUp, descPeerSent, descPeerDropped, descPeerReceived, descPeerRefused,
		descPeerRejected, descPeerLinkUps, descLeaderChange, descForwarded, descLeaderless} {
		ch <- d
	}
}

// clusterStatsTimeout bounds a scrape's wait for node.Stats.
const clusterStatsTimeout = 2 * time.Second

func (c clusterCollector) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v int64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v))
	}
	ps, hs := c.s.host.PeerStats(), c.s.host.Stats()
	for _, l := range ps.Links {
		up := 0.0
		if l.Up {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(descPeerUp, prometheus.GaugeValue, up, strconv.FormatUint(uint64(l.Node), 10))
	}
	counter(descPeerSent, hs.PeerSent)
	counter(descPeerDropped, hs.PeerDropped)
	counter(descPeerReceived, hs.PeerReceived)
	counter(descPeerRefused, ps.Refused)
	counter(descPeerRejected, ps.Rejected)
	counter(descPeerLinkUps, ps.LinkUps)
	if st, err := c.s.statsWithin(clusterStatsTimeout); err == nil {
		counter(descLeaderChange, st.LeaderChanges)
		counter(descForwarded, st.Forwarded)
		ch <- prometheus.MustNewConstMetric(descLeaderless, prometheus.GaugeValue, float64(st.LeaderlessSlots))
	}
}
