package http

import (
	"cmp"
	"hash/fnv"
	nethttp "net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/jindou-im/jindou/node"
)

// ClusterNode is one member as this node knows it: its peer address, the
// client and HTTP addresses it presented in its peer handshake, and
// whether a checked peer connection to or from it is open (Up, since
// Since). This node's own entry has Self and Up set.
type ClusterNode struct {
	ID       uint64    `json:"id"`
	PeerAddr string    `json:"peer_addr"`
	TCPAddr  string    `json:"tcp_addr"`
	WSAddr   string    `json:"ws_addr"`
	WSSAddr  string    `json:"wss_addr"`
	HTTPAddr string    `json:"http_addr"`
	Self     bool      `json:"self"`
	Up       bool      `json:"up"`
	Since    time.Time `json:"since,omitzero"`
	// LeaderSlots is how many slots this node believes the member leads.
	LeaderSlots int `json:"leader_slots"`
}

// clusterNodes are the members (Config.Cluster) or, for a node alone, this
// node with its advertised addresses.
func (s *Server) clusterNodes() []ClusterNode {
	if s.cfg.Cluster != nil {
		return s.cfg.Cluster()
	}
	return []ClusterNode{{ID: s.cfg.ServerID, TCPAddr: s.cfg.TCPAddr, WSAddr: s.cfg.WSAddr, WSSAddr: s.cfg.WSSAddr,
		Self: true, Up: true}}
}

func (s *Server) clusterRoutes() {
	s.e.GET("/cluster/nodes", s.clusterNodesRoute)
	s.e.GET("/cluster/slots", s.clusterSlotsRoute)
}

// clusterNodesRoute answers GET /cluster/nodes.
func (s *Server) clusterNodesRoute(c echo.Context) error {
	r, err := callAs[node.ClusterSlotsReply](s, c, node.ClusterSlots{})
	if err != nil {
		return err
	}
	nodes := s.clusterNodes()
	for i := range nodes {
		for _, sl := range r.Slots {
			if sl.Leader == nodes[i].ID {
				nodes[i].LeaderSlots++
			}
		}
	}
	return c.JSON(nethttp.StatusOK, map[string]any{"node_id": s.cfg.ServerID, "nodes": nodes})
}

// clusterSlotsRoute answers GET /cluster/slots: this node's view of every
// slot (node.ClusterSlots).
func (s *Server) clusterSlotsRoute(c echo.Context) error {
	r, err := callAs[node.ClusterSlotsReply](s, c, node.ClusterSlots{})
	if err != nil {
		return err
	}
	return c.JSON(nethttp.StatusOK, map[string]any{"node_id": s.cfg.ServerID, "members": r.Members,
		"replica_count": r.ReplicaCount, "slots": r.Slots})
}

// routeFor is the node /route?uid= hands a client: among the members that
// are up and have client addresses (this node always is), the one the
// uid's hash picks, so that a user lands on the same node while the
// membership holds and the users are spread over the nodes. Without a uid,
// this node.
func (s *Server) routeFor(uid string) ClusterNode {
	nodes := s.clusterNodes()
	live := slices.DeleteFunc(nodes, func(n ClusterNode) bool { return !n.Up || (n.TCPAddr == "" && n.WSAddr == "") })
	self := slices.IndexFunc(live, func(n ClusterNode) bool { return n.Self })
	if uid == "" || len(live) == 0 {
		if self >= 0 {
			return live[self]
		}
		return ClusterNode{TCPAddr: s.cfg.TCPAddr, WSAddr: s.cfg.WSAddr, WSSAddr: s.cfg.WSSAddr}
	}
	slices.SortFunc(live, func(a, b ClusterNode) int { return cmp.Compare(a.ID, b.ID) })
	h := fnv.New32a()
	h.Write([]byte(uid))
	return live[h.Sum32()%uint32(len(live))]
}
