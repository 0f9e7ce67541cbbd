package http

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	nethttp "net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/jindou-im/jindou/node"
)

// Submitter runs a command on the core; *node.Node satisfies it. done may
// run on another goroutine, once.
type Submitter interface {
	Submit(req node.Request, done func(reply any, err error))
}

// Config configures a Server. The zero value of every field means its
// default.
type Config struct {
	// Addr is the listen address (default "0.0.0.0:5001").
	Addr string
	// ManagerToken, if set, is required in header `token` of every request
	// but the probes (/healthz, /health, /readyz); else 401.
	ManagerToken string
	// TCPAddr, WSAddr and WSSAddr are advertised by /route and /varz.
	TCPAddr, WSAddr, WSSAddr string
	// ServerID and Version are shown by /varz.
	ServerID uint64
	Version  string
	// RequestTimeout bounds how long a request waits for the core (default
	// 10 s); past it the request answers 503.
	RequestTimeout time.Duration
	// QueueStats, if set, reads the runtime's queue figures for /varz and
	// /metrics; nil leaves them out. It is a func filled by the binary
	// because this package does not import the runtime. It must not block:
	// a scrape calls it even while the node does not answer.
	QueueStats func() QueueStats
	// ConnStats, if set, reads the runtime's connection figures (slow
	// reader cuts, accept failures) for /metrics (metrics_conns.go); nil
	// leaves them out. Like QueueStats it must not block.
	ConnStats func() ConnStats
	// Logger receives the server's log lines (default slog.Default()).
	Logger *slog.Logger
	// Ops are the switches of the pages, /metrics, pprof and CORS (web.go).
	Ops Ops
	// Limits bound bodies, requests in flight and connections (limits.go).
	Limits Limits
	// Cluster, if set, lists the cluster's members for /cluster/nodes and
	// /route (routes_cluster.go); nil: a node alone. It must not block.
	Cluster func() []ClusterNode
}

// QueueStats are the runtime's queues: lengths now and high-water marks
// since start. The runtime's queues are unbounded (a bound would drop
// work), so these are how a backlog is seen.
type QueueStats struct {
	// Loops are the core's loops' event queues, by loop name ("api",
	// "gw-0", "slots-0", ...); Length counts the events waiting, not the
	// one being handled.
	Loops map[string]QueueFigures
	// Disk is the disk writer's queue of commits; DiskMaxBatch the most
	// commits it ever ran back to back (one group commit).
	Disk         QueueFigures
	DiskMaxBatch int64
	// Timers is the runtime's timer heap (armed timers).
	Timers QueueFigures
	// Output is what the runtime's connections owe their clients, and the
	// slow readers it cut for it (metrics_budget.go).
	Output OutputFigures
	// DiskCommit times the disk writer's group commits (metrics_disk.go).
	DiskCommit DurationFigures
}

// QueueFigures are one queue's length now and the most it ever held.
type QueueFigures struct {
	Length    int64 `json:"length"`
	HighWater int64 `json:"high_water"`
}

// DefaultAddr is the API's default listen address, as WuKongIM's.
const DefaultAddr = "0.0.0.0:5001"

// Server serves the HTTP API.
type Server struct {
	cfg     Config
	n       Submitter
	log     *slog.Logger
	e       *echo.Echo
	reg     *prometheus.Registry
	started time.Time

	requests       *prometheus.CounterVec
	sendLatency    prometheus.Histogram
	metricsHandler nethttp.Handler

	errLog errLimiter
	gate   gate
	// drain refuses sends once Stop began and counts those in flight
	// (drain.go).
	drain sendDrain
	// acceptFailures counts the API listener's failed accepts
	// (listener.go).
	acceptFailures atomic.Int64

	mu sync.Mutex
	// componentsOK and notReady are what SetComponentsReady said; guarded
	// by mu.
	componentsOK bool
	notReady     string
	// ln and srv exist once Start has run; guarded by mu.
	ln  net.Listener
	srv *nethttp.Server
}

// New makes a server for n. Nothing is bound until Start.
func New(cfg Config, n Submitter) *Server {
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.Limits.setDefaults(cfg.RequestTimeout)
	s := &Server{cfg: cfg, n: n, log: cfg.Logger.With("component", "http"), started: time.Now(),
		notReady: "components: not started"}
	s.initMetrics()
	s.reg.MustRegister(&moreCollector{s: s}, &connsCollector{s: s}) // metrics_more.go, metrics_conns.go
	s.reg.MustRegister(&budgetCollector{s: s})                      // metrics_budget.go
	s.e = echo.New()
	s.e.HideBanner = true
	s.e.HidePort = true
	s.e.HTTPErrorHandler = s.handleError
	s.useCORS()
	s.e.Use(s.countRequests, s.timeRequests(), s.logErrors, s.checkToken, s.limitRequests, s.drainSends)
	s.routes()
	return s
}

// Handler is the server's request handler (for tests and for hosting it
// elsewhere).
func (s *Server) Handler() nethttp.Handler { return s.e }

// Start binds Config.Addr and serves in the background.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return errors.New("http: server already started")
	}
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("http: listen on %s: %w", s.cfg.Addr, err)
	}
	cl := &capListener{Listener: ln, log: s.log, failures: &s.acceptFailures} // listener.go
	s.ln = cl
	s.srv = s.newHTTPServer() // limits.go
	srv := s.srv
	go func() {
		if err := srv.Serve(cl); err != nil && !errors.Is(err, nethttp.ErrServerClosed) {
			s.log.Error("http: serve", "addr", ln.Addr().String(), "err", err)
		}
	}()
	s.log.Info("http: serving", "addr", ln.Addr().String())
	return nil
}

// Addr is the bound address, nil before Start.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Stop refuses new sends (503) and waits, until ctx ends, for the sends
// in flight to be answered (drain.go); then it stops accepting and waits,
// until ctx ends, for the other requests in flight; what still runs then
// is cut.
func (s *Server) Stop(ctx context.Context) error {
	s.mu.Lock()
	srv := s.srv
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	s.waitSends(ctx)
	err := srv.Shutdown(ctx)
	if err != nil {
		_ = srv.Close()
	}
	return err
}

// SetComponentsReady records whether every component of the process is up;
// /readyz answers 200 only when ok and the node itself is ready. notReady
// names what is not (shown by /readyz).
func (s *Server) SetComponentsReady(ok bool, notReady string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.componentsOK, s.notReady = ok, notReady
}

func (s *Server) componentsReady() (bool, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.componentsOK, s.notReady
}

// Registry is the metrics registry /metrics serves; the process may add
// its own collectors. It already holds the node's figures (jindou_*), the
// HTTP layer's (jindou_http_*) and the Go runtime and process collectors.
func (s *Server) Registry() *prometheus.Registry { return s.reg }

// errTimeout: the core did not answer within Config.RequestTimeout.
var errTimeout = errors.New("the node did not answer in time")

type result struct {
	v   any
	err error
}

// call submits req and waits for its reply, at most RequestTimeout and no
// longer than the client waits.
func (s *Server) call(ctx context.Context, req node.Request) (any, error) {
	ch := make(chan result, 1) // done never blocks, even after we gave up
	s.n.Submit(req, func(v any, err error) { ch <- result{v, err} })
	t := time.NewTimer(s.cfg.RequestTimeout)
	defer t.Stop()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-t.C:
		return nil, errTimeout
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// callAs calls req and asserts its reply type.
func callAs[T any](s *Server, c echo.Context, req node.Request) (T, error) {
	var zero T
	v, err := s.call(c.Request().Context(), req)
	if err != nil {
		return zero, err
	}
	t, ok := v.(T)
	if !ok {
		return zero, fmt.Errorf("http: %T answered %T, want %T", req, v, zero)
	}
	return t, nil
}

// Envelopes.

// ok answers {"status":200}.
func ok(c echo.Context) error {
	return c.JSON(nethttp.StatusOK, map[string]int{"status": nethttp.StatusOK})
}

// okData answers {"status":200,"data":data}.
func okData(c echo.Context, data any) error {
	return c.JSON(nethttp.StatusOK, struct {
		Status int `json:"status"`
		Data   any `json:"data"`
	}{nethttp.StatusOK, data})
}

// apiError is an error answered with its own status.
type apiError struct {
	code       int
	msg        string
	reasonCode *uint8
}

func (e *apiError) Error() string { return e.msg }

// badRequest is a 400 naming field.
func badRequest(field, format string, args ...any) error {
	return &apiError{code: nethttp.StatusBadRequest, msg: field + ": " + fmt.Sprintf(format, args...)}
}

// required is a 400 for a missing field.
func required(field string) error { return badRequest(field, "required") }

// errorBody is the error envelope.
type errorBody struct {
	Status     int    `json:"status"`
	Msg        string `json:"msg"`
	ReasonCode *uint8 `json:"reason_code,omitempty"`
}

// classify maps an error to its status and body.
func classify(err error) errorBody {
	var (
		ae  *apiError
		br  *node.BadRequest
		ref *node.Refused
		he  *echo.HTTPError
	)
	switch {
	case errors.As(err, &ae):
		return errorBody{Status: ae.code, Msg: ae.msg, ReasonCode: ae.reasonCode}
	case errors.As(err, &br):
		return errorBody{Status: nethttp.StatusBadRequest, Msg: br.Error()}
	case errors.As(err, &ref):
		code := uint8(ref.Reason)
		return errorBody{Status: nethttp.StatusBadRequest, ReasonCode: &code,
			Msg: fmt.Sprintf("send refused: reason %d (%s)", code, reasonName(ref.Reason))}
	case errors.Is(err, node.ErrUnknownList):
		return errorBody{Status: nethttp.StatusBadRequest, Msg: "list: " + err.Error()}
	case errors.Is(err, errTimeout), errors.Is(err, node.ErrNotLeader), errors.Is(err, node.ErrTimeout), errors.Is(err, node.ErrOverloaded),
		errors.Is(err, node.ErrDiskFull):
		return errorBody{Status: nethttp.StatusServiceUnavailable, Msg: err.Error()}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return errorBody{Status: nethttp.StatusServiceUnavailable, Msg: "request abandoned: " + err.Error()}
	case errors.As(err, &he):
		return errorBody{Status: he.Code, Msg: fmt.Sprint(he.Message)}
	}
	return errorBody{Status: nethttp.StatusInternalServerError, Msg: err.Error()}
}

// handleError writes every error a handler returns in the API's envelope.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	if errors.Is(err, echo.ErrNotFound) && c.Request().Method != nethttp.MethodHead {
		_ = c.JSON(nethttp.StatusNotFound, notFound(c))
		return
	}
	body := classify(err) // logErrors (errlog.go) logged it
	if c.Request().Method == nethttp.MethodHead {
		_ = c.NoContent(body.Status)
		return
	}
	_ = c.JSON(body.Status, body)
}

// probes answer without the manager token.
var probes = map[string]bool{"/healthz": true, "/health": true, "/readyz": true}

// checkToken requires the manager token, if one is configured.
func (s *Server) checkToken(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.cfg.ManagerToken == "" || s.noToken(c) {
			return next(c)
		}
		got := c.Request().Header.Get("token")
		if subtle.ConstantTimeCompare([]byte(got), []byte(s.cfg.ManagerToken)) != 1 {
			msg := "token: invalid manager token"
			if got == "" {
				msg = "token: header required (manager token)"
			}
			return &apiError{code: nethttp.StatusUnauthorized, msg: msg}
		}
		return next(c)
	}
}

// countRequests counts every request by route, method and status.
func (s *Server) countRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := next(c)
		code := c.Response().Status
		if err != nil {
			code = classify(err).Status
		}
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		method := c.Request().Method
		switch method {
		case nethttp.MethodGet, nethttp.MethodPost, nethttp.MethodHead, nethttp.MethodPut, nethttp.MethodDelete,
			nethttp.MethodPatch, nethttp.MethodOptions:
		default:
			method = "other" // bounded label values
		}
		s.requests.WithLabelValues(route, method, strconv.Itoa(code)).Inc()
		return err
	}
}
