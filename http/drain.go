package http

import (
	"context"
	nethttp "net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// The graceful stop's drain of HTTP sends. Stop first stops taking sends
// (a new one answers 503, not stored, saying so) while the sends in
// flight go on to their real outcome (200 with the seq once committed),
// the listener still open meanwhile; once none is in flight (or ctx
// ends) the net/http server shuts down, waiting for the other requests
// in flight, and what is still running when ctx ends is cut.

// sendRoutes are the routes that store messages.
var sendRoutes = map[string]bool{"/message/send": true, "/message/sendbatch": true}

// errStopping answers a send that came once the node was stopping.
var errStopping = &apiError{code: nethttp.StatusServiceUnavailable,
	msg: "node is stopping: the message was not stored; send it again to another node, or to this one once it is back"}

// drainPoll is how often Stop looks whether the sends in flight are done.
const drainPoll = 5 * time.Millisecond

// sendDrain counts the sends in flight and refuses new ones once stopping.
type sendDrain struct {
	mu       sync.Mutex
	stopping bool // guarded by mu
	inFlight int  // guarded by mu
}

// begin admits a send, false once stopping.
func (d *sendDrain) begin() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopping {
		return false
	}
	d.inFlight++
	return true
}

func (d *sendDrain) end() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.inFlight--
}

// stop refuses new sends and reports how many are in flight.
func (d *sendDrain) stop() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stopping = true
	return d.inFlight
}

func (d *sendDrain) pending() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.inFlight
}

// drainSends is the middleware of the send routes.
func (s *Server) drainSends(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !sendRoutes[c.Path()] {
			return next(c)
		}
		if !s.drain.begin() {
			return errStopping
		}
		defer s.drain.end()
		return next(c)
	}
}

// waitSends refuses new sends and waits until those in flight are
// answered or ctx ends; it returns how many were left.
func (s *Server) waitSends(ctx context.Context) int {
	begin := time.Now()
	left := s.drain.stop()
	for left > 0 {
		select {
		case <-ctx.Done():
			s.log.Warn("http: stop timeout with sends in flight", "sends_unfinished", left)
			return left
		case <-time.After(drainPoll):
		}
		left = s.drain.pending()
	}
	s.log.Info("http: sends drained before the stop", "took", time.Since(begin).Round(time.Millisecond))
	return 0
}
