package http

import (
	"fmt"
	nethttp "net/http"

	"github.com/labstack/echo/v4"
)

// WuKongIM v2.2.5 routes Jindou leaves out, and why. Each answers 404
// with a JSON body naming the route as unsupported and the reason, so
// that a back end written for WuKongIM learns what it hit; any other
// unknown route answers 404 naming the route too (handleError).
var unsupportedRoutes = []struct {
	method, path, why string
}{
	{"GET", "/tag", "tags are WuKongIM's per-node cache of a channel's receivers; Jindou delivers from the channel's slot and keeps none"},
	{"GET", "/tags", "tags are WuKongIM's per-node cache of a channel's receivers; Jindou delivers from the channel's slot and keeps none"},
	{"POST", "/tag/remove", "tags are WuKongIM's per-node cache of a channel's receivers; Jindou delivers from the channel's slot and keeps none"},
	{"POST", "/user/update_plugin_no", "plugins are not supported"},
	{"POST", "/stress/add", "the stress-test machines of WuKongIM's manager are not part of Jindou (use jindou bench)"},
	{"POST", "/stress/remove", "the stress-test machines of WuKongIM's manager are not part of Jindou (use jindou bench)"},
	{"POST", "/stress/start", "the stress-test machines of WuKongIM's manager are not part of Jindou (use jindou bench)"},
	{"POST", "/stress/stop", "the stress-test machines of WuKongIM's manager are not part of Jindou (use jindou bench)"},
	{"POST", "/stress/report", "the stress-test machines of WuKongIM's manager are not part of Jindou (use jindou bench)"},
	{"GET", "/stress/infoList", "the stress-test machines of WuKongIM's manager are not part of Jindou (use jindou bench)"},
	{"GET", "/stress/templates", "the stress-test machines of WuKongIM's manager are not part of Jindou (use jindou bench)"},
	{"GET", "/migrate/result", "there is no WuKongIM v1 data to migrate from"},
}

// unsupportedBody is the 404 of a route Jindou does not serve.
type unsupportedBody struct {
	Status      int    `json:"status"`
	Msg         string `json:"msg"`
	Route       string `json:"route"`
	Unsupported bool   `json:"unsupported"`
}

func (s *Server) unsupportedRoutes() {
	for _, r := range unsupportedRoutes {
		msg := fmt.Sprintf("%s %s is not supported by Jindou: %s", r.method, r.path, r.why)
		s.e.Add(r.method, r.path, func(c echo.Context) error {
			return c.JSON(nethttp.StatusNotFound, unsupportedBody{Status: nethttp.StatusNotFound, Msg: msg,
				Route: r.method + " " + r.path, Unsupported: true})
		})
	}
}

// notFound is the 404 of a route nobody serves.
func notFound(c echo.Context) unsupportedBody {
	route := c.Request().Method + " " + c.Request().URL.Path
	return unsupportedBody{Status: nethttp.StatusNotFound, Route: route, Unsupported: true,
		Msg: route + " is not a route Jindou serves (docs/API.md lists them)"}
}
