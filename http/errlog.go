package http

import (
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/jindou-im/jindou/node"
	"github.com/labstack/echo/v4"
)

// Failed requests are logged: 4xx at info (the route, the status and the
// field the message names), 5xx at error. Client errors are at most
// errLogBurst lines per errLogWindow; the rest are counted and the count
// rides on the next line logged.
const (
	errLogWindow = 10 * time.Second
	errLogBurst  = 20
)

// errLimiter counts the 4xx lines of the current window.
type errLimiter struct {
	mu                 sync.Mutex
	start              time.Time
	logged, suppressed int
}

// allow reports whether a line may be logged now, and how many were
// suppressed in the window that just ended.
func (l *errLimiter) allow(now time.Time) (ok bool, suppressed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.start) >= errLogWindow {
		suppressed, l.start, l.logged, l.suppressed = l.suppressed, now, 0, 0
	}
	if l.logged >= errLogBurst {
		l.suppressed++
		return false, 0
	}
	l.logged++
	return true, suppressed
}

// logErrors logs the request's error, if its handler returned one.
func (s *Server) logErrors(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := next(c)
		if err == nil {
			return nil
		}
		if errors.Is(err, node.ErrDiskFull) {
			return err // the node logs a full disk once per episode, not per request
		}
		body := classify(err)
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		attrs := []any{"method", c.Request().Method, "route", route, "path", c.Request().URL.Path,
			"status", body.Status, "error", body.Msg}
		if body.Status >= 500 {
			s.log.Error("http: request failed", append(attrs, "cause", err.Error())...)
			return err
		}
		ok, suppressed := s.errLog.allow(time.Now())
		if !ok {
			return err
		}
		if field, _, found := strings.Cut(body.Msg, ": "); found && !strings.Contains(field, " ") {
			attrs = append(attrs, "field", field)
		}
		if suppressed > 0 {
			attrs = append(attrs, "suppressed", suppressed)
		}
		s.log.Info("http: request refused", attrs...)
		return err
	}
}
