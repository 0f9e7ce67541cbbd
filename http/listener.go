package http

import (
	"errors"
	"log/slog"
	"net"
	"sync/atomic"
	"syscall"
	"time"
)

// capListener keeps the API's accept failures out of net/http: at the fd
// cap (EMFILE, ENFILE) net/http would log every retry; this listener logs
// the episode once when it starts and once when an accept works again,
// counts each failure, and retries with a growing pause.
type capListener struct {
	net.Listener
	log *slog.Logger
	// failures counts failed accepts (jindou_accept_failures_total with
	// listener "http"); the Server's counter.
	failures *atomic.Int64
	// since is when the episode began; only Accept's goroutine (net/http
	// accepts on one) touches it.
	since     time.Time
	inEpisode int64
}

// The pauses between retries at the fd cap.
const (
	acceptPauseMin = 5 * time.Millisecond
	acceptPauseMax = time.Second
)

func (l *capListener) Accept() (net.Conn, error) {
	pause := acceptPauseMin
	for {
		conn, err := l.Listener.Accept()
		if err == nil {
			l.episodeEnds()
			return conn, nil
		}
		if !errors.Is(err, syscall.EMFILE) && !errors.Is(err, syscall.ENFILE) {
			return nil, err
		}
		l.failures.Add(1)
		l.inEpisode++
		if l.since.IsZero() {
			l.since = time.Now()
			l.log.Warn("http: out of file descriptors: new HTTP connections wait in the backlog until some are freed", "err", err)
		}
		time.Sleep(pause)
		pause = min(2*pause, acceptPauseMax)
	}
}

func (l *capListener) episodeEnds() {
	if l.since.IsZero() {
		return
	}
	l.log.Info("http: accepting connections again after running out of file descriptors",
		"failed_accepts", l.inEpisode, "lasted", time.Since(l.since).Round(time.Millisecond))
	l.since, l.inEpisode = time.Time{}, 0
}
