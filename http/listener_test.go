package http

import (
	"bytes"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
)

// failingListener fails its first fails accepts with err, then accepts.
type failingListener struct {
	net.Listener
	fails int
	err   error
}

func (l *failingListener) Accept() (net.Conn, error) {
	if l.fails > 0 {
		l.fails--
		return nil, l.err
	}
	a, b := net.Pipe()
	b.Close()
	return a, nil
}

func TestTheAPIListenerLogsAnFDCapEpisodeOnceAndCountsItsFailures(t *testing.T) {
	var logs bytes.Buffer
	var failures atomic.Int64
	l := &capListener{Listener: &failingListener{fails: 5, err: syscall.EMFILE}, log: slog.New(slog.NewTextHandler(&logs, nil)), failures: &failures}
	conn, err := l.Accept()
	if err != nil {
		t.Fatalf("Accept gave up at the fd cap: %v", err)
	}
	conn.Close()
	if failures.Load() != 5 {
		t.Fatalf("%d failures counted, want 5", failures.Load())
	}
	if n := strings.Count(logs.String(), "out of file descriptors"); n != 2 { // the start, and the end's "after running out of"
		t.Fatalf("%d log lines naming the episode, want one at its start and one at its end:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "failed_accepts=5") {
		t.Fatalf("the end of the episode does not count its failures:\n%s", logs.String())
	}
	other := &capListener{Listener: &failingListener{fails: 1, err: net.ErrClosed}, log: l.log, failures: &failures}
	if _, err := other.Accept(); err != net.ErrClosed {
		t.Fatalf("a closed listener's error: %v, want it returned", err)
	}
}
