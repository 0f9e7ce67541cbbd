// Package proclog keeps the JSON log a jindou process writes to stderr,
// for what runs the binary as a subprocess (the e2e tests, the scenarios'
// real backend): every line is kept, and the first "serving" line, which
// names the bound addresses, is handed over on Serving.
//
// Imports: the standard library only.
package proclog

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"sync"
)

// maxLineBytes is the longest log line kept whole.
const maxLineBytes = 1 << 20

// Log is a process's log so far.
type Log struct {
	mu  sync.Mutex
	buf bytes.Buffer // guarded by mu
	// Serving receives the fields of the first "serving" line.
	Serving chan map[string]any
}

// New is an empty log.
func New() *Log { return &Log{Serving: make(chan map[string]any, 1)} }

// Scan reads r (the process's stderr) to its end, keeping every line;
// done is closed at the end.
func (l *Log) Scan(r io.Reader, done chan<- struct{}) {
	defer close(done)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLineBytes)
	for sc.Scan() {
		line := sc.Bytes()
		l.mu.Lock()
		l.buf.Write(line)
		l.buf.WriteByte('\n')
		l.mu.Unlock()
		var f map[string]any
		if json.Unmarshal(line, &f) == nil && f["msg"] == "serving" {
			select {
			case l.Serving <- f:
			default:
			}
		}
	}
}

// Follow reads the started cmd's stderr into l and waits for cmd:
// exited gets Wait's result once the whole log has been read (Wait closes
// the pipe, so the log is read to its end first).
func (l *Log) Follow(cmd *exec.Cmd, stderr io.Reader, exited func(error)) {
	scanned := make(chan struct{})
	go l.Scan(stderr, scanned)
	go func() {
		<-scanned
		exited(cmd.Wait())
	}()
}

// String is everything read so far.
func (l *Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Tail is the last n lines read so far.
func (l *Log) Tail(n int) string {
	lines := strings.Split(strings.TrimSpace(l.String()), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
