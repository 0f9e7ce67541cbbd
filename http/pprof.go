package http

import (
	nethttp "net/http"
	"net/http/pprof"

	"github.com/labstack/echo/v4"
)

// registerPprof mounts net/http/pprof's handlers on g (/debug/pprof).
func registerPprof(g *echo.Group) {
	g.GET("/*", echo.WrapHandler(nethttp.HandlerFunc(pprof.Index)))
	g.GET("/cmdline", echo.WrapHandler(nethttp.HandlerFunc(pprof.Cmdline)))
	g.GET("/profile", echo.WrapHandler(nethttp.HandlerFunc(pprof.Profile)))
	g.GET("/symbol", echo.WrapHandler(nethttp.HandlerFunc(pprof.Symbol)))
	g.GET("/trace", echo.WrapHandler(nethttp.HandlerFunc(pprof.Trace)))
}
