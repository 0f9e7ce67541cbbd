package reactor

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	goruntime "runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/sys/unix"
)

// TestMeasureIdleConnMemory measures the server's memory per idle
// connection, for TCP and for WebSocket, with the clients in a child
// process (this test binary, re-executed) so the server's RSS is its own:
//
//	JINDOU_MEASURE=1 go test ./runtime/reactor -run TestMeasureIdleConnMemory -v
//
// JINDOU_MEASURE_N sets the number of connections (default 10,000). Each
// connection does one 16-byte echo, then idles.
func TestMeasureIdleConnMemory(t *testing.T) {
	if kind := os.Getenv("JINDOU_MEASURE_CLIENT"); kind != "" {
		measureClient(t, kind)
		return
	}
	if os.Getenv("JINDOU_MEASURE") == "" {
		t.Skip("set JINDOU_MEASURE=1 to measure")
	}
	raiseFileLimit(t)
	n := 10000
	if s := os.Getenv("JINDOU_MEASURE_N"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	for _, kind := range []string{"tcp", "ws"} {
		measureKind(t, kind, n)
	}
}

func measureKind(t *testing.T, kind string, n int) {
	life := newConnLife()
	cfg := testConfig(t)
	cfg.Reactors = 0 // NumCPU
	h := startHost(t, cfg, echoProc(goruntime.NumCPU(), life))
	addr := h.TCPAddr().String()
	if kind == "ws" {
		addr = h.WSAddr().String()
	}
	baseRSS, baseGo := settledMemory()

	cmd := exec.Command(os.Args[0], "-test.run=^TestMeasureIdleConnMemory$", "-test.v")
	cmd.Env = append(os.Environ(), "JINDOU_MEASURE_CLIENT="+kind, "JINDOU_MEASURE_ADDR="+addr,
		"JINDOU_MEASURE_N="+strconv.Itoa(n))
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		_ = cmd.Wait()
	}()
	report := ""
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "connected ") {
			report = line
			break
		}
	}
	if report == "" {
		t.Fatalf("%s client failed", kind)
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	eventually(t, "every connection open", func() bool { return h.Stats().Open == int64(n) })
	rss, goMem := settledMemory()
	t.Logf("%s: %d idle connections: server RSS +%.1f MiB = %.0f B/conn; Go heap+stacks +%.0f B/conn; goroutines %d; client %s",
		kind, n, float64(rss-baseRSS)/(1<<20), float64(rss-baseRSS)/float64(n),
		float64(goMem-baseGo)/float64(n), goruntime.NumGoroutine(), strings.TrimPrefix(report, "connected "))
}

// settledMemory is the RSS and the Go heap and stacks in use after a full
// collection that returned free memory to the OS.
func settledMemory() (rss, goMem int64) {
	goruntime.GC()
	debug.FreeOSMemory()
	var ms goruntime.MemStats
	goruntime.ReadMemStats(&ms)
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, int64(ms.HeapInuse + ms.StackInuse)
	}
	fields := strings.Fields(string(data))
	pages, _ := strconv.ParseInt(fields[1], 10, 64)
	return pages * int64(os.Getpagesize()), int64(ms.HeapInuse + ms.StackInuse)
}

func raiseFileLimit(t *testing.T) {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	lim.Cur = lim.Max
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
}

// measureClient is the child: it opens the connections with 16 dialling
// goroutines, echoes 16 bytes on each, prints the rate, and holds them
// until stdin closes.
func measureClient(t *testing.T, kind string) {
	raiseFileLimit(t)
	addr := os.Getenv("JINDOU_MEASURE_ADDR")
	n, _ := strconv.Atoi(os.Getenv("JINDOU_MEASURE_N"))
	var mu sync.Mutex
	var conns []io.Closer
	var next, failed atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				c, err := measureDial(kind, addr)
				if err != nil {
					failed.Add(1)
					fmt.Fprintln(os.Stderr, "dial:", err)
					continue
				}
				mu.Lock()
				conns = append(conns, c)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	fmt.Printf("connected %d (failed %d) in %v: %.0f connects+echo/s\n", len(conns), failed.Load(),
		took.Round(time.Millisecond), float64(len(conns))/took.Seconds())
	_, _ = io.Copy(io.Discard, os.Stdin)
	for _, c := range conns {
		c.Close()
	}
}

func measureDial(kind, addr string) (io.Closer, error) {
	msg := []byte("0123456789abcde\n")
	if kind == "ws" {
		c, _, err := (&websocket.Dialer{HandshakeTimeout: testTimeout, ReadBufferSize: 256, WriteBufferSize: 256}).Dial("ws://"+addr+"/", nil)
		if err != nil {
			return nil, err
		}
		if err := c.WriteMessage(websocket.BinaryMessage, msg); err != nil {
			return nil, err
		}
		_, _, err = c.ReadMessage()
		return c, err
	}
	c, err := net.DialTimeout("tcp", addr, testTimeout)
	if err != nil {
		return nil, err
	}
	if _, err := c.Write(msg); err != nil {
		return nil, err
	}
	_, err = io.ReadFull(c, make([]byte, len(msg)))
	return c, err
}
