package http

import (
	"io/fs"
	nethttp "net/http"

	"github.com/labstack/echo/v4"

	"github.com/jindou-im/jindou/web"
)

// webRoutes serves the admin page (/web) and, with Ops.Demo, the chat
// demo (/demo and its API).
func (s *Server) webRoutes() {
	s.static(adminPath, web.Admin(), nil)
	if !s.cfg.Ops.Demo {
		return
	}
	s.static(demoPath, web.Demo(), s.demoBundled)
	s.demoRoutes()
}

// static serves files under prefix; prefix itself redirects to prefix/ so
// that the pages' relative links resolve. check, if set, runs first.
func (s *Server) static(prefix string, files fs.FS, check echo.MiddlewareFunc) {
	var mw []echo.MiddlewareFunc
	if check != nil {
		mw = append(mw, check)
	}
	s.e.GET(prefix, func(c echo.Context) error {
		return c.Redirect(nethttp.StatusFound, prefix+"/")
	})
	index := echo.StaticFileHandler("index.html", files)
	dir := echo.StaticDirectoryHandler(files, false)
	s.e.GET(prefix+"/*", func(c echo.Context) error {
		if c.Param("*") == "" {
			return index(c)
		}
		return dir(c)
	}, mw...)
}

// demoBundled answers 503 when this binary was built without the demo's
// script (go build without make web).
func (s *Server) demoBundled(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !web.Bundled() {
			return &apiError{code: nethttp.StatusServiceUnavailable,
				msg: "demo: this binary was built without the demo's script (web/dist/demo.js): build it with make build, which runs web/build.sh"}
		}
		return next(c)
	}
}
