package http

import (
	"crypto/subtle"
	"net"
	nethttp "net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// Ops are the switches of the pages and the operational routes
// (Config.Ops). The zero value serves /web, no demo, /metrics behind the
// manager token, /debug/pprof off and no CORS headers.
type Ops struct {
	// Demo serves the chat demo at /demo. Its small API logs any name in,
	// so it only answers while the node checks no tokens: with TokenAuth
	// or a manager token it says it is off (403).
	Demo bool
	// TokenAuth: the node checks CONNECT tokens (the demo cannot log
	// anyone in).
	TokenAuth bool
	// MetricsPublic serves /metrics without the manager token. Without
	// it, /metrics takes the token in header token or as
	// "Authorization: Bearer <token>", as a stock Prometheus sends it.
	MetricsPublic bool
	// Pprof is PprofOff, PprofLoopback (only to requests from a loopback
	// address that did not come through a reverse proxy) or PprofOn. The
	// manager token applies in every case.
	Pprof string
	// CORSOrigins, if not empty, are the origins browsers may call the
	// API from ("*" for any); see cors.go.
	CORSOrigins []string
}

// The values of Ops.Pprof.
const (
	PprofOff      = "off"
	PprofLoopback = "loopback"
	PprofOn       = "on"
)

// The pages' mount points.
const (
	demoPath  = "/demo"
	adminPath = "/web"
)

// noToken reports whether a request is answered without the manager token:
// the probes, the pages' static files (the admin page asks for the token
// itself), the demo's API (which refuses while a manager token is set) and
// /metrics when it is public or the token comes as a bearer token.
func (s *Server) noToken(c echo.Context) bool {
	p := c.Request().URL.Path
	switch {
	case probes[p]:
		return true
	case p == demoPath || strings.HasPrefix(p, demoPath+"/"), p == adminPath || strings.HasPrefix(p, adminPath+"/"):
		return true
	case p == "/metrics":
		return s.cfg.Ops.MetricsPublic || s.bearerOK(c)
	}
	return false
}

// bearerOK reports whether the request carries the manager token as
// "Authorization: Bearer <token>".
func (s *Server) bearerOK(c echo.Context) bool {
	auth := c.Request().Header.Get(echo.HeaderAuthorization)
	tok, found := strings.CutPrefix(auth, "Bearer ")
	return found && s.cfg.ManagerToken != "" &&
		subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(s.cfg.ManagerToken)) == 1
}

// pprofRoutes registers Go's profiler per Ops.Pprof.
func (s *Server) pprofRoutes() {
	mode := s.cfg.Ops.Pprof
	if mode == "" || mode == PprofOff {
		return
	}
	g := s.e.Group("/debug/pprof", func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if mode == PprofLoopback && !fromLoopback(c.Request()) {
				return &apiError{code: nethttp.StatusForbidden,
					msg: "pprof: served to loopback addresses only (set pprof: on to serve it to others)"}
			}
			if mode == PprofLoopback && proxied(c.Request()) {
				return &apiError{code: nethttp.StatusForbidden,
					msg: "pprof: not served through a proxy (its clients all come from loopback; set pprof: on to serve it to them)"}
			}
			return next(c)
		}
	})
	registerPprof(g)
	if mode == PprofOn && s.cfg.ManagerToken == "" {
		s.log.Warn("http: pprof: on without a manager_token: /debug/pprof is open to anyone who reaches the API port")
	}
}

// forwardHeaders are set by reverse proxies; a request carrying one came
// through a proxy, whose own address (often loopback) says nothing of the
// client's.
var forwardHeaders = []string{"Forwarded", "X-Forwarded-For", "X-Real-Ip", "X-Forwarded-Host"}

// proxied reports whether the request came through a reverse proxy.
func proxied(r *nethttp.Request) bool {
	for _, h := range forwardHeaders {
		if r.Header.Get(h) != "" {
			return true
		}
	}
	return false
}

// fromLoopback reports whether the request's peer is a loopback address.
func fromLoopback(r *nethttp.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
