package reactor

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jindou-im/jindou/runtime"
	"golang.org/x/sys/unix"
)

// lockedBuffer is a log sink safe for the host's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) count(s string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Count(b.buf.String(), s)
}

// exhaustFDs lowers the process's descriptor limit to a little above what
// it holds and opens descriptors up to it, leaving free of them unused;
// the returned func undoes both (also at the test's end).
func exhaustFDs(t *testing.T, free int) (restore func()) {
	t.Helper()
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	low := old
	low.Cur = uint64(len(entries) + 64)
	if low.Cur > old.Max {
		t.Skipf("descriptor limit %d too low to test", old.Max)
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	var held []int
	for {
		fd, err := unix.Open(os.DevNull, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			break
		}
		held = append(held, fd)
	}
	for range free {
		unix.Close(held[len(held)-1])
		held = held[:len(held)-1]
	}
	done := false
	restore = func() {
		if done {
			return
		}
		done = true
		for _, fd := range held {
			unix.Close(fd)
		}
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old)
	}
	t.Cleanup(restore)
	return restore
}

// readAnswer reads what the server sends until it closes, failing if it
// neither answers nor closes within a few seconds (the client would wait
// out its connect timeout).
func readAnswer(t *testing.T, conn net.Conn) string {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	b, err := io.ReadAll(conn)
	if err != nil && !isReset(err) {
		t.Fatalf("no answer at the fd cap: %v (read %q)", err, b)
	}
	return string(b)
}

func TestAtTheFDCapClientsAreAnsweredAtOnceAndTheEpisodeIsLoggedOnce(t *testing.T) {
	var logs lockedBuffer
	cfg := testConfig(t)
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	var opened atomic.Int64
	p := &testProc{on: func(_ *testProc, _ int, ev runtime.Event) {
		if _, ok := ev.(runtime.ConnOpened); ok {
			opened.Add(1)
		}
	}}
	h := startHost(t, cfg, p)
	restore := exhaustFDs(t, 1) // the client's own socket takes the last one
	for range 3 {
		conn, err := net.Dial("tcp", h.TCPAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		if got := readAnswer(t, conn); got != "" {
			t.Fatalf("TCP at the fd cap: read %q, want a close", got)
		}
		conn.Close()
	}
	conn, err := net.Dial("tcp", h.WSAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
	if got := readAnswer(t, conn); !strings.HasPrefix(got, "HTTP/1.1 503") || !strings.Contains(got, "out of file descriptors") {
		t.Fatalf("WebSocket at the fd cap: %q, want a 503 naming the cause", got)
	}
	conn.Close()
	st := h.AcceptStats()
	if st["tcp"].Refused != 3 || st["ws"].Refused != 1 || st["tcp"].Failures != 0 || st["ws"].Failures != 0 {
		t.Fatalf("accept stats %+v, want 3 TCP and 1 WebSocket refusals counted", st)
	}
	if n := logs.count("out of file descriptors"); n != 1 {
		t.Fatalf("%d log lines of the episode's start, want 1:\n%s", n, logs.buf.String())
	}
	if opened.Load() != 0 {
		t.Fatalf("%d connections reached the process at the cap", opened.Load())
	}
	restore()
	dialTCP(t, h)
	eventually(t, "a connection accepted after the cap", func() bool { return opened.Load() == 1 })
	if n := logs.count("accepting connections again"); n != 1 {
		t.Fatalf("%d log lines of the episode's end, want 1", n)
	}
}
