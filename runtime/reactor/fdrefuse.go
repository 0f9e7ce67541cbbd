package reactor

import (
	"errors"
	"time"

	"golang.org/x/sys/unix"
)

// At the fd cap a TCP client is told why before it is closed, when it says
// CONNECT in time: WKProto answers nothing before it. Each such client
// keeps the descriptor it was accepted on (a reserve given up for it,
// fdcap.go) on a goroutine of its own that waits at most refuseWait for
// the CONNECT, reads at most refuseReadMax bytes, writes Config.RefuseTCP's
// answer and closes. At most refuseHeld are held at once (their reserve is
// kept for them): bounded time, memory and descriptors, and the accept
// loop never waits for one; past them a client is closed at once.
const (
	refuseHeld    = 8
	refuseWait    = 2 * time.Second
	refuseReadMax = 4096
)

// holdTCP takes fd, a TCP client accepted at the cap, to be told why, if
// the host can answer (Config.RefuseTCP) and fewer than refuseHeld are
// held; it reports whether it took fd. mu held.
func (c *fdCap) holdTCP(fd int) (kept bool) {
	answer := c.h.cfg.RefuseTCP
	if answer == nil || c.held >= refuseHeld || c.closed {
		return false
	}
	c.held++
	go c.answerTCP(fd, answer)
	return true
}

// answerTCP reads fd's CONNECT, writes the refusal and closes fd, then
// gives the reserve back.
func (c *fdCap) answerTCP(fd int, answer func([]byte) ([]byte, bool)) {
	if out := readRefused(fd, time.Now().Add(refuseWait), answer); out != nil {
		// A fresh socket's send buffer takes a few frames whole.
		if n, err := unix.Write(fd, out); err == nil && n == len(out) {
			c.tcp.answered.Add(1)
		}
	}
	unix.Close(fd)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.held--
	c.refill()
}

// readRefused reads fd (non-blocking) until answer is done with what came,
// and returns its answer; nil when the client closes, sends too much or
// says nothing by the deadline.
func readRefused(fd int, deadline time.Time, answer func([]byte) ([]byte, bool)) []byte {
	buf := make([]byte, 0, refuseReadMax)
	for len(buf) < cap(buf) {
		left := time.Until(deadline)
		if left <= 0 {
			return nil
		}
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(pfd, int(left.Milliseconds())+1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || n == 0 {
			return nil
		}
		k, err := unix.Read(fd, buf[len(buf):cap(buf)])
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || k <= 0 {
			return nil
		}
		buf = buf[:len(buf)+k]
		if out, done := answer(buf); done {
			return out
		}
	}
	return nil
}
