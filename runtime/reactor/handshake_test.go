package reactor

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/jindou-im/jindou/runtime"
)

func TestAWebSocketClientThatSendsNoUpgradeIsClosedAfterTheHandshakeTimeout(t *testing.T) {
	cfg := testConfig(t)
	cfg.WSHandshakeTimeout = 200 * time.Millisecond
	h := startHost(t, cfg, &testProc{on: func(*testProc, int, runtime.Event) {}})
	conn, err := net.Dial("tcp", h.WSAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = io.WriteString(conn, "GET / HTTP/1.1\r\n") // and never the rest
	if got := readAnswer(t, conn); got != "" {
		t.Fatalf("read %q, want a close", got)
	}
}
