package reactor

import (
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The fd cap. Once the process holds as many descriptors as its limit
// (RLIMIT_NOFILE, EMFILE) or the system does (ENFILE), accept fails and
// the connection stays in the listen backlog: its client waits out its
// own connect timeout with no word. So the host keeps descriptors in
// reserve (open /dev/null): at the cap a listener gives one up, accepts
// what waits in its backlog, answers each at once (a WebSocket one gets
// an HTTP 503 naming the cause) and takes the reserve back. A TCP client
// must send CONNECT before WKProto can answer it: up to refuseHeld of them
// keep their descriptor (one reserve each) for at most refuseWait, on a
// goroutine of their own, and get a CONNACK and DISCONNECT with the reason
// (Config.RefuseTCP, fdrefuse.go); past that, or without RefuseTCP, a TCP
// client is closed at once. The episode is logged when it starts and when
// accepting works again, with its counts, not at every failure.

// wsRefusal is the answer to a WebSocket upgrade refused at the fd cap.
var wsRefusal = []byte("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\n" +
	"Content-Length: 74\r\n\r\n" + `{"status":503,"msg":"server out of file descriptors: retry later, please."}`)

// AcceptStats are a listener's accept failures: Refused counts the
// connections taken on a reserve descriptor at the fd cap and answered
// at once, Answered those of them told why (WebSocket: each, an HTTP 503;
// TCP: each whose CONNECT came in time, a CONNACK and DISCONNECT with the
// reason), Failures the accepts that failed otherwise
// (out of memory, or at the cap with no reserve left), which leave a
// client unanswered.
type AcceptStats struct {
	Failures, Refused, Answered int64
}

// fdCap is the host's reserve descriptors and their accounting.
type fdCap struct {
	h *Host

	mu sync.Mutex
	// spare are the descriptors kept back, up to target; held counts the
	// TCP clients being answered on theirs (fdrefuse.go); closed: the
	// host stopped, none is taken again. since is when the episode began
	// (zero: none is under way), and episodeErrors (accepts that failed
	// at the cap) and episodeRefused its counts. Guarded by mu.
	spare                         []int
	target, held                  int
	closed                        bool
	since                         time.Time
	episodeErrors, episodeRefused int64
	// inEpisode mirrors !since.IsZero() for the accept path's cheap check.
	inEpisode atomic.Bool

	// tcp and ws count each listener's failures and refusals.
	tcp, ws acceptCounters
}

type acceptCounters struct {
	failures, refused, answered atomic.Int64
}

// newFDCap keeps one descriptor in reserve, and one more for each TCP
// client that may be held to be told why (with Config.RefuseTCP).
func newFDCap(h *Host) *fdCap {
	c := &fdCap{h: h, target: 1}
	if h.cfg.RefuseTCP != nil {
		c.target += refuseHeld
	}
	return c
}

// open takes the reserve, as the listeners start serving.
func (c *fdCap) open() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refill()
}

// refill opens reserve descriptors up to the target, as far as the
// process has room; mu held.
func (c *fdCap) refill() {
	for !c.closed && len(c.spare) < c.target {
		fd, err := unix.Open(os.DevNull, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return
		}
		c.spare = append(c.spare, fd)
	}
}

// giveUp closes one reserve descriptor, making room for an accept; it
// reports false when none is left. mu held.
func (c *fdCap) giveUp() bool {
	if len(c.spare) == 0 {
		return false
	}
	unix.Close(c.spare[len(c.spare)-1])
	c.spare = c.spare[:len(c.spare)-1]
	return true
}

// release closes the reserve, for good (the host is stopping).
func (c *fdCap) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	for c.giveUp() {
	}
}

func (c *fdCap) counters(listener string) *acceptCounters {
	if listener == "ws" {
		return &c.ws
	}
	return &c.tcp
}

// atCap reports whether err says the process or the system is out of
// descriptors.
func atCap(err error) bool {
	return errors.Is(err, unix.EMFILE) || errors.Is(err, unix.ENFILE)
}

// failed handles a failed accept on listenFD: at the cap it gives up
// reserve descriptors to accept and answer what waits (refuse, which
// reports whether it kept the descriptor, else it is closed), else it
// only counts. It reports whether the listener should pause before
// accepting again (nothing could be done: without a pause it would spin).
func (c *fdCap) failed(listener string, listenFD int, err error, refuse func(fd int) (kept bool)) (pause bool) {
	cnt := c.counters(listener)
	if !atCap(err) {
		cnt.failures.Add(1)
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.episodeErrors++
	if c.since.IsZero() {
		c.since = time.Now()
		c.inEpisode.Store(true)
		c.h.log.Warn("reactor: out of file descriptors: new connections are answered at once and closed until some are freed",
			"listener", listener, "err", err, "fd_limit", fdLimit())
	}
	if len(c.spare) == 0 {
		cnt.failures.Add(1) // a client may wait in the backlog, unanswered
		c.refill()
		return true
	}
	n := c.shedBacklog(listenFD, cnt, refuse)
	c.episodeRefused += n
	c.refill()
	return n == 0
}

// shedBacklog accepts and answers every connection waiting on listenFD
// (non-blocking), each on a reserve descriptor given up for it, counting
// each in cnt before its client can see it; it returns how many. mu held.
func (c *fdCap) shedBacklog(listenFD int, cnt *acceptCounters, refuse func(fd int) (kept bool)) int64 {
	var n int64
	for c.giveUp() {
		fd, _, err := unix.Accept4(listenFD, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		for errors.Is(err, unix.EINTR) || errors.Is(err, unix.ECONNABORTED) {
			fd, _, err = unix.Accept4(listenFD, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		}
		if err != nil {
			return n
		}
		cnt.refused.Add(1)
		if refuse == nil || !refuse(fd) {
			unix.Close(fd)
		}
		n++
		c.refill() // the reserve back, unless refuse kept fd
	}
	return n
}

// accepted ends an episode: an accept worked again.
func (c *fdCap) accepted() {
	if !c.inEpisode.Load() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.since.IsZero() {
		return
	}
	c.h.log.Info("reactor: accepting connections again after running out of file descriptors",
		"failed_accepts", c.episodeErrors, "refused", c.episodeRefused, "lasted", time.Since(c.since).Round(time.Millisecond))
	c.since, c.episodeErrors, c.episodeRefused = time.Time{}, 0, 0
	c.inEpisode.Store(false)
	c.refill()
}

// refuseWS answers a WebSocket client that the server is out of
// descriptors, without reading its request (a fresh socket's send buffer
// takes the answer whole); the descriptor is closed at once.
func refuseWS(fd int) (kept bool) {
	_, _ = unix.Write(fd, wsRefusal)
	return false
}

// fdLimit is the process's descriptor limit (soft), 0 if unknown.
func fdLimit() uint64 {
	var r unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &r) != nil {
		return 0
	}
	return r.Cur
}

// AcceptStats returns each client listener's accept failures, by
// listener ("tcp", "ws").
func (h *Host) AcceptStats() map[string]AcceptStats {
	c := h.fdcap
	return map[string]AcceptStats{
		"tcp": {Failures: c.tcp.failures.Load(), Refused: c.tcp.refused.Load(), Answered: c.tcp.answered.Load()},
		"ws":  {Failures: c.ws.failures.Load(), Refused: c.ws.refused.Load(), Answered: c.ws.refused.Load()},
	}
}

// acceptFailed handles a failed Accept of the WebSocket listener and
// pauses when nothing could be done.
func (w *wsServer) acceptFailed(err error) {
	pause := true
	if sc, ok := w.ln.(syscall.Conn); ok && atCap(err) {
		if raw, rerr := sc.SyscallConn(); rerr == nil {
			_ = raw.Control(func(fd uintptr) {
				pause = w.h.fdcap.failed("ws", int(fd), err, refuseWS)
			})
		}
	} else {
		w.h.fdcap.failed("ws", -1, err, nil)
	}
	if pause {
		if !atCap(err) && !errors.Is(err, net.ErrClosed) {
			w.h.log.Warn("reactor: websocket accept failed; pausing", "err", err)
		}
		time.Sleep(acceptRetryPause)
	}
}
