package http

import (
	nethttp "net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// requestDurationBuckets are the bounds, in seconds, of
// jindou_http_request_duration_seconds.
var requestDurationBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// timeRequests observes every request's duration by route and method
// (jindou_http_request_duration_seconds, registered in s's registry).
func (s *Server) timeRequests() echo.MiddlewareFunc {
	hist := prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Subsystem: "http",
		Name: "request_duration_seconds", Help: "Time to answer an HTTP request, by route and method.",
		Buckets: requestDurationBuckets}, []string{"route", "method"})
	s.reg.MustRegister(hist)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			t0 := time.Now()
			err := next(c)
			route := c.Path()
			if route == "" {
				route = "unmatched"
			}
			hist.WithLabelValues(route, boundedMethod(c.Request().Method)).Observe(time.Since(t0).Seconds())
			return err
		}
	}
}

// boundedMethod keeps the method label to a few values.
func boundedMethod(m string) string {
	switch m {
	case nethttp.MethodGet, nethttp.MethodPost, nethttp.MethodHead, nethttp.MethodPut, nethttp.MethodDelete,
		nethttp.MethodPatch, nethttp.MethodOptions:
		return m
	}
	return "other"
}
