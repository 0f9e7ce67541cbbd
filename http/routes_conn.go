package http

import (
	nethttp "net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/jindou-im/jindou/node"
)

// Connections, routing and settings routes of WuKongIM v2.2.5 that
// routes.go does not hold.
func (s *Server) connRoutes() {
	e := s.e
	e.POST("/conn/kick", s.connClose(true))
	e.POST("/conn/remove", s.connClose(false))
	e.POST("/route/batch", s.routeBatch)
	e.GET("/varz/setting", s.varzSetting)
	e.POST("/channel/subscriber_remove_all", s.subscribersRemoveAll)
	// Jindou keeps no system-uid cache apart from the store: the cache
	// routes change the stored set, as the others do.
	e.POST("/user/systemuids_add_to_cache", s.systemUIDs("add"))
	e.POST("/user/systemuids_remove_from_cache", s.systemUIDs("remove"))
}

// connClose closes a connection by /connz's id: kick writes a DISCONNECT
// first (POST /conn/kick), remove does not (POST /conn/remove).
func (s *Server) connClose(kick bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req struct {
			UID      string `json:"uid"`
			ConnID   int64  `json:"conn_id"`
			NodeID   uint64 `json:"node_id"`
			OpNodeID uint64 `json:"op_node_id"`
		}
		if err := decode(c, &req); err != nil {
			return err
		}
		switch {
		case req.ConnID <= 0:
			return badRequest("conn_id", "required: a connection id as /connz shows it")
		case strings.TrimSpace(req.UID) == "":
			return required("uid")
		case s.otherNode(req.NodeID):
			return badRequest("node_id", "%d is not this node (%d): Jindou serves a cluster of one", req.NodeID, s.cfg.ServerID)
		case s.otherNode(req.OpNodeID):
			return badRequest("op_node_id", "%d is not this node (%d): Jindou serves a cluster of one", req.OpNodeID, s.cfg.ServerID)
		}
		return s.run(c, node.ConnClose{UID: req.UID, ConnID: uint64(req.ConnID), Kick: kick})
	}
}

// otherNode: id names a node, and not this one (0 is this one).
func (s *Server) otherNode(id uint64) bool {
	return id != 0 && s.cfg.ServerID != 0 && id != s.cfg.ServerID
}

// routeBatch answers every uid with this node's addresses, in
// WuKongIM's shape: [{"tcp_addr", "ws_addr", "wss_addr", "uids"}].
func (s *Server) routeBatch(c echo.Context) error {
	var uids []string
	if err := decode(c, &uids); err != nil {
		return err
	}
	if uids == nil {
		uids = []string{}
	}
	type userAddr struct {
		TCPAddr string   `json:"tcp_addr"`
		WSAddr  string   `json:"ws_addr"`
		WSSAddr string   `json:"wss_addr"`
		UIDs    []string `json:"uids"`
	}
	return c.JSON(nethttp.StatusOK, []userAddr{{TCPAddr: s.cfg.TCPAddr, WSAddr: s.cfg.WSAddr, WSSAddr: s.cfg.WSSAddr, UIDs: uids}})
}

// varzSetting is WuKongIM's SystemSetting: Jindou has no trace log, Loki
// or stress mode; Prometheus is on (/metrics).
func (s *Server) varzSetting(c echo.Context) error {
	type logger struct {
		TraceOn int `json:"trace_on"`
		LokiOn  int `json:"loki_on"`
	}
	return c.JSON(nethttp.StatusOK, struct {
		Logger       logger `json:"logger"`
		PrometheusOn int    `json:"prometheus_on"`
		StressOn     int    `json:"stress_on"`
	}{PrometheusOn: 1})
}

func (s *Server) subscribersRemoveAll(c echo.Context) error {
	return s.runForChannel(c, func(ch node.ChannelKey) node.Request { return node.SubscribersRemoveAll{Channel: ch} })
}
