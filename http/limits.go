package http

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	nethttp "net/http"
	"os"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// Limits bound what HTTP clients may cost the node (Config.Limits): the
// bytes of one body, the bodies held at once, the requests served at once
// and how long a connection may take to send a request or stay idle. The
// zero value of every field means its default.
type Limits struct {
	// MaxBody bounds a request body (default DefaultMaxBody); past it the
	// request answers 413 naming the limit.
	MaxBody int64
	// MaxBulkBody bounds the body of the routes that carry a message
	// payload or a list of uids (bulkRoutes; default DefaultMaxBulkBody).
	MaxBulkBody int64
	// BodyBudget bounds the bytes of the bodies being read at once, each
	// counted at its Content-Length or, without one, at its route's limit
	// (default DefaultBodyBudget); past it a request answers 429.
	BodyBudget int64
	// MaxRequests bounds the requests being served at once, the probes
	// aside (default DefaultMaxRequests); past it a request answers 429.
	MaxRequests int
	// ReadTimeout bounds the reading of a request, headers and body
	// (default DefaultReadTimeout); a body not received by then answers
	// 408 and its connection is closed.
	ReadTimeout time.Duration
	// WriteTimeout bounds a request from the end of its headers to the end
	// of its answer (default Config.RequestTimeout plus
	// DefaultReadTimeout); /debug/pprof's profiles and traces extend it
	// for as long as they were asked to run (net/http/pprof does).
	WriteTimeout time.Duration
	// IdleTimeout closes a keep-alive connection idle for so long (default
	// DefaultIdleTimeout).
	IdleTimeout time.Duration
}

// The defaults of Limits.
const (
	// DefaultMaxBody holds any ordinary request many times over.
	DefaultMaxBody = 1 << 20
	// DefaultMaxBulkBody holds a 1 MiB payload in base64 (1.4 MiB) with
	// room for a long subscriber list (sendbatch, subscriber_add).
	DefaultMaxBulkBody = 8 << 20
	// DefaultBodyBudget is eight bulk bodies, or 64 ordinary ones at
	// their limit: the most request bodies cost at once.
	DefaultBodyBudget = 64 << 20
	// DefaultMaxRequests is far above what a back end keeps in flight.
	DefaultMaxRequests = 256
	DefaultReadTimeout = 30 * time.Second
	DefaultIdleTimeout = 60 * time.Second
	// headerTimeout bounds the request line and headers, within
	// ReadTimeout.
	headerTimeout = 10 * time.Second
)

// bulkRoutes carry a message payload or a list of uids that may be long:
// they get Limits.MaxBulkBody.
var bulkRoutes = map[string]bool{
	"/message/send": true, "/message/sendbatch": true, "/channel": true,
	"/channel/subscriber_add": true, "/channel/subscriber_remove": true,
	"/channel/whitelist_add": true, "/channel/whitelist_set": true, "/channel/whitelist_remove": true,
	"/channel/blacklist_add": true, "/channel/blacklist_set": true, "/channel/blacklist_remove": true,
	"/user/onlinestatus": true, "/route/batch": true,
}

func (l *Limits) setDefaults(requestTimeout time.Duration) {
	if l.MaxBody <= 0 {
		l.MaxBody = DefaultMaxBody
	}
	if l.MaxBulkBody <= 0 {
		l.MaxBulkBody = DefaultMaxBulkBody
	}
	if l.BodyBudget <= 0 {
		l.BodyBudget = DefaultBodyBudget
	}
	if l.MaxRequests <= 0 {
		l.MaxRequests = DefaultMaxRequests
	}
	if l.ReadTimeout <= 0 {
		l.ReadTimeout = DefaultReadTimeout
	}
	if l.WriteTimeout <= 0 {
		l.WriteTimeout = requestTimeout + DefaultReadTimeout
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = DefaultIdleTimeout
	}
}

// newHTTPServer is the net/http server of the API, its timeouts set.
func (s *Server) newHTTPServer() *nethttp.Server {
	l := s.cfg.Limits
	return &nethttp.Server{Handler: s.e, ReadHeaderTimeout: min(headerTimeout, l.ReadTimeout),
		ReadTimeout: l.ReadTimeout, WriteTimeout: l.WriteTimeout, IdleTimeout: l.IdleTimeout,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
}

// gate counts the requests and body bytes in flight against Limits.
type gate struct {
	mu sync.Mutex
	// requests and bodyBytes are in flight now; guarded by mu.
	requests  int
	bodyBytes int64
}

// enter admits a request reserving body bytes, or says which bound it
// would pass.
func (g *gate) enter(l *Limits, body int64) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.requests >= l.MaxRequests {
		return tooMany(fmt.Sprintf("too many requests in flight: at most %d (http_max_requests); retry later", l.MaxRequests))
	}
	if body > 0 && g.bodyBytes > 0 && g.bodyBytes+body > l.BodyBudget { // a body alone always fits
		return tooMany(fmt.Sprintf("request bodies in flight over %d bytes (http_body_budget); retry later", l.BodyBudget))
	}
	g.requests++
	g.bodyBytes += body
	return nil
}

func (g *gate) leave(body int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.requests--
	g.bodyBytes -= body
}

func tooMany(msg string) error {
	return &apiError{code: nethttp.StatusTooManyRequests, msg: msg}
}

// bodyLimit is the route's body limit and the key that sets it.
func (s *Server) bodyLimit(c echo.Context) (int64, string) {
	if bulkRoutes[c.Path()] {
		return s.cfg.Limits.MaxBulkBody, "http_max_bulk_body"
	}
	return s.cfg.Limits.MaxBody, "http_max_body"
}

// limitRequests bounds the request's body and counts it against the
// gate; the probes pass untouched, so that a busy node still answers
// its load balancer.
func (s *Server) limitRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if probes[c.Request().URL.Path] {
			return next(c)
		}
		r := c.Request()
		limit, key := s.bodyLimit(c)
		if r.ContentLength > limit {
			return bodyTooLarge(limit, key)
		}
		reserve := limit // a body of unknown length may take the route's limit
		switch {
		case r.ContentLength >= 0:
			reserve = r.ContentLength
		case r.Body == nil || r.Body == nethttp.NoBody:
			reserve = 0
		}
		if err := s.gate.enter(&s.cfg.Limits, reserve); err != nil {
			return err
		}
		defer s.gate.leave(reserve)
		if r.Body != nil {
			r.Body = nethttp.MaxBytesReader(c.Response().Writer, r.Body, limit)
		}
		c.Set(bodyLimitKey, key)
		return next(c)
	}
}

// bodyLimitKey is where limitRequests leaves the key of the request's
// body limit, for the 413 that decode answers.
const bodyLimitKey = "jindou.body_limit_key"

func bodyTooLarge(limit int64, key string) error {
	return &apiError{code: nethttp.StatusRequestEntityTooLarge,
		msg: fmt.Sprintf("body: larger than %d bytes (%s)", limit, key)}
}

// bodyReadError is the answer to a body that could not be read: over its
// limit (413), not received within the read timeout (408), or cut.
func bodyReadError(c echo.Context, err error) error {
	var mbe *nethttp.MaxBytesError
	var ne net.Error
	switch {
	case errors.As(err, &mbe):
		key, _ := c.Get(bodyLimitKey).(string)
		return bodyTooLarge(mbe.Limit, key)
	case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return &apiError{code: nethttp.StatusRequestTimeout,
			msg: "body: not received within the read timeout (http_read_timeout)"}
	}
	return badRequest("body", "cannot read: %v", err)
}
