package http

import (
	"net"
	nethttp "net/http"
	"regexp"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/node/proto"
)

// The chat demo's API (/demo/api/*), for the page in web/demo: it logs a
// name in (joins the lobby group and says where the WebSocket is), lists
// who is online, and reads conversations and history with the API's own
// handlers. It serves only while the node checks no tokens (no token_auth,
// no manager token): the page lets anyone chat as any name, which such a
// node allows anyway.

// demoGroup is the group every demo user joins.
const demoGroup = "lobby"

// demoToken is the CONNECT token the demo's users send (the node checks
// none while the demo serves).
const demoToken = "demo"

// demoOnlineLimit bounds the connections /demo/api/online reads.
const demoOnlineLimit = 500

// demoUID is what a demo name may be.
var demoUID = regexp.MustCompile(`^[\p{L}\p{N}_.-]{1,32}$`)

func (s *Server) demoRoutes() {
	g := s.e.Group(demoPath+"/api", s.demoOpen)
	g.POST("/login", s.demoLogin)
	g.GET("/online", s.demoOnline)
	g.POST("/conversations", s.conversationSync)
	g.POST("/messagesync", s.messageSync)
	g.POST("/clear_unread", s.conversationUpdate("clear"))
}

// demoOpen refuses the demo's API on a node that checks tokens.
func (s *Server) demoOpen(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		why := ""
		switch {
		case s.cfg.Ops.TokenAuth:
			why = "token_auth is on"
		case s.cfg.ManagerToken != "":
			why = "a manager token is set"
		}
		if why != "" {
			return &apiError{code: nethttp.StatusForbidden,
				msg: "demo: off because " + why + " (the demo logs anyone in under any name)"}
		}
		return next(c)
	}
}

// demoLoginReply tells the page how to connect.
type demoLoginReply struct {
	UID    string `json:"uid"`
	Token  string `json:"token"`
	WSAddr string `json:"ws_addr"`
	Group  string `json:"group"`
}

func (s *Server) demoLogin(c echo.Context) error {
	var req struct {
		UID string `json:"uid"`
	}
	if err := decode(c, &req); err != nil {
		return err
	}
	if !demoUID.MatchString(req.UID) {
		return badRequest("uid", "1 to 32 letters, digits, '_', '.' or '-'")
	}
	if s.cfg.WSAddr == "" {
		return &apiError{code: nethttp.StatusServiceUnavailable, msg: "demo: this node has no WebSocket listener (ws_addr)"}
	}
	join := node.Subscribers{Channel: node.ChannelKey{Type: proto.ChannelGroup, ID: demoGroup}, Subscribers: []string{req.UID}}
	if _, err := s.call(c.Request().Context(), join); err != nil {
		return err
	}
	return c.JSON(nethttp.StatusOK, demoLoginReply{UID: req.UID, Token: demoToken, WSAddr: s.browserWS(c), Group: demoGroup})
}

// browserWS is the WebSocket URL for a browser that reached this API at
// the request's host: that host, the WebSocket listener's port (unless
// the advertised address names a host of its own).
func (s *Server) browserWS(c echo.Context) string {
	u := s.cfg.WSAddr
	scheme, hostport, found := cutScheme(u)
	if !found {
		scheme, hostport = "ws", u
	}
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return u
	}
	if ip := net.ParseIP(host); ip != nil && !ip.IsLoopback() && !ip.IsUnspecified() {
		return u // an external address: hand it out as is
	}
	reqHost, _, err := net.SplitHostPort(c.Request().Host)
	if err != nil {
		reqHost = c.Request().Host
	}
	return scheme + "://" + net.JoinHostPort(reqHost, port)
}

func cutScheme(u string) (scheme, rest string, found bool) {
	for _, sch := range []string{"ws", "wss"} {
		if len(u) > len(sch)+3 && u[:len(sch)+3] == sch+"://" {
			return sch, u[len(sch)+3:], true
		}
	}
	return "", u, false
}

// demoOnline lists the uids with a connection on this node, sorted.
func (s *Server) demoOnline(c echo.Context) error {
	r, err := callAs[node.ConnzReply](s, c, node.Connz{Limit: demoOnlineLimit})
	if err != nil {
		return err
	}
	uids := make([]string, 0, len(r.Connections))
	for _, ci := range r.Connections {
		if ci.UID != "" && !slices.Contains(uids, ci.UID) {
			uids = append(uids, ci.UID)
		}
	}
	slices.Sort(uids)
	return c.JSON(nethttp.StatusOK, map[string][]string{"uids": uids})
}
