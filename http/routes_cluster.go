package http

import (
	"cmp"
	"errors"
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
	ID       uint64 `json:"id"`
	PeerAddr string `json:"peer_addr"`
	TCPAddr  string `json:"tcp_addr"`
	WSAddr   string `json:"ws_addr"`
	WSSAddr  string `json:"wss_addr"`
	HTTPAddr string `json:"http_addr"`
	// Status is "active", or "removed" for a member removed from the
	// cluster table that still runs.
	Status string    `json:"status,omitempty"`
	Self   bool      `json:"self"`
	Up     bool      `json:"up"`
	Since  time.Time `json:"since,omitzero"`
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
	s.e.POST("/cluster/nodes/remove", s.clusterRemoveRoute)
}

// clusterRemoveRoute answers POST /cluster/nodes/remove {"node_id":N}:
// member N is removed from the cluster table (node.RemoveMember); the
// slots' leaders then move its replicas to the other members. It answers
// once the removal is committed; the moves follow.
func (s *Server) clusterRemoveRoute(c echo.Context) error {
	var req struct {
		NodeID *uint64 `json:"node_id"`
	}
	if err := decode(c, &req); err != nil {
		return err
	}
	if req.NodeID == nil || *req.NodeID == 0 {
		return badRequest("node_id", "required: the id of the member to remove (above 0)")
	}
	_, err := s.call(c.Request().Context(), node.RemoveMember{ID: *req.NodeID})
	var bad *node.BadRequest
	if errors.As(err, &bad) {
		return badRequest("node_id", "%s", bad.Msg) // the core names the request's field, id
	}
	if err != nil {
		return err
	}
	return ok(c)
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
	live := slices.DeleteFunc(nodes, func(n ClusterNode) bool {
		return !n.Up || n.Status == "removed" || (n.TCPAddr == "" && n.WSAddr == "")
	})
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

// membershipNotReady says why this node is not an active member of the
// cluster table it applied, or "" when it is: a node that joins is ready
// only once it was admitted (and node.Ready has found every group it holds,
// the controller's too, with a leader).
func (s *Server) membershipNotReady(c echo.Context) string {
	t, err := callAs[node.ClusterMembersReply](s, c, node.ClusterMembers{})
	switch {
	case err != nil:
		return "cluster: " + err.Error()
	case !t.Known:
		return "cluster: joining, the cluster table is not known here yet"
	}
	i := slices.IndexFunc(t.Members, func(m node.MemberInfo) bool { return m.ID == s.cfg.ServerID })
	switch {
	case s.cfg.ServerID == 0:
		return ""
	case i < 0:
		return "cluster: joining, not yet a member of the cluster table"
	case t.Members[i].Status != "active":
		return "cluster: this node was removed from the cluster"
	}
	return ""
}
