package reactor

import (
	"bytes"
	"errors"
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// rawSock is a client socket made before the descriptors run out, so that
// the test's clients need none of the few the host has left.
type rawSock struct {
	t  *testing.T
	fd int
}

func newRawSock(t *testing.T) *rawSock {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return &rawSock{t: t, fd: fd}
}

func (s *rawSock) connect(h *Host) {
	s.t.Helper()
	if err := unix.Connect(s.fd, &unix.SockaddrInet4{Port: h.TCPAddr().(*net.TCPAddr).Port, Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		s.t.Fatal(err)
	}
}

func (s *rawSock) write(b string) {
	s.t.Helper()
	if _, err := unix.Write(s.fd, []byte(b)); err != nil {
		s.t.Fatal(err)
	}
}

// readToEOF reads until the server closes, failing after within.
func (s *rawSock) readToEOF(within time.Duration) string {
	s.t.Helper()
	tv := unix.NsecToTimeval(within.Nanoseconds())
	_ = unix.SetsockoptTimeval(s.fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	var got []byte
	buf := make([]byte, 512)
	for {
		n, err := unix.Read(s.fd, buf)
		switch {
		case errors.Is(err, unix.EAGAIN):
			s.t.Fatalf("not closed within %v (read %q)", within, got)
		case errors.Is(err, unix.ECONNRESET) || n == 0:
			return string(got)
		case err != nil:
			s.t.Fatal(err)
		}
		got = append(got, buf[:n]...)
	}
}

// closedByPeer reports, without waiting, whether the server closed s.
func (s *rawSock) closedByPeer() bool {
	n, _, err := unix.Recvfrom(s.fd, make([]byte, 1), unix.MSG_PEEK|unix.MSG_DONTWAIT)
	return n == 0 && err == nil || errors.Is(err, unix.ECONNRESET)
}

// lineRefusal answers a first line with "no: <line>".
func lineRefusal(in []byte) ([]byte, bool) {
	if i := bytes.IndexByte(in, '\n'); i >= 0 {
		return append([]byte("no: "), in[:i]...), true
	}
	return nil, false
}

func TestAtTheFDCapATCPClientThatSpeaksInTimeIsToldWhyAndTheHeldAreBounded(t *testing.T) {
	cfg := testConfig(t)
	cfg.RefuseTCP = lineRefusal
	h := startHost(t, cfg, &testProc{})
	socks := make([]*rawSock, refuseHeld+2)
	for i := range socks {
		socks[i] = newRawSock(t)
	}
	exhaustFDs(t, 0)
	// One that speaks at once is told why, and its reserve comes back.
	socks[0].connect(h)
	socks[0].write("CONNECT u1\n")
	if got := socks[0].readToEOF(5 * time.Second); got != "no: CONNECT u1" {
		t.Fatalf("a client at the fd cap read %q, want the refusal", got)
	}
	eventually(t, "the answered client's reserve back", func() bool {
		h.fdcap.mu.Lock()
		defer h.fdcap.mu.Unlock()
		return h.fdcap.held == 0
	})
	// refuseHeld silent ones are held for their CONNECT; one more is
	// closed at once, while they still wait.
	for _, s := range socks[1 : refuseHeld+1] {
		s.connect(h)
	}
	eventually(t, "the silent clients held", func() bool {
		h.fdcap.mu.Lock()
		defer h.fdcap.mu.Unlock()
		return h.fdcap.held == refuseHeld
	})
	extra := socks[refuseHeld+1]
	extra.connect(h)
	if got := extra.readToEOF(refuseWait); got != "" {
		t.Fatalf("the client past the held ones read %q, want a close", got)
	}
	if socks[1].closedByPeer() {
		t.Fatal("a held client was closed before the one past the bound: nothing was held")
	}
	for i, s := range socks[1 : refuseHeld+1] {
		if got := s.readToEOF(10 * time.Second); got != "" {
			t.Fatalf("silent client %d read %q, want a close after the wait", i, got)
		}
	}
	st := h.AcceptStats()["tcp"]
	if st.Refused != refuseHeld+2 || st.Answered != 1 || st.Failures != 0 {
		t.Fatalf("accept stats %+v, want %d refused, 1 answered", st, refuseHeld+2)
	}
}
