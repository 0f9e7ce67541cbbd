package http

import (
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// corsHeaders are the request headers a browser may send cross-origin: the
// manager token (header token), a bearer token and JSON bodies.
var corsHeaders = []string{echo.HeaderContentType, echo.HeaderAuthorization, "token"}

// useCORS answers browsers from Ops.CORSOrigins with echo's CORS
// middleware, before routing and the manager token check, so a preflight
// (OPTIONS) is answered without the token. No origins: no CORS headers.
func (s *Server) useCORS() {
	if len(s.cfg.Ops.CORSOrigins) == 0 {
		return
	}
	s.e.Pre(middleware.CORSWithConfig(middleware.CORSConfig{
		AllowOrigins: s.cfg.Ops.CORSOrigins,
		AllowMethods: []string{"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"},
		AllowHeaders: corsHeaders,
		MaxAge:       600,
	}))
}
