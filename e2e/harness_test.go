// Package e2e tests the real jindou binary: it is built once (TestMain),
// started as a subprocess on 127.0.0.1 with port 0 listeners and a
// temporary data dir, and driven by raw WKProto clients
// (wkclient.NetClient), the official JS SDK (tools/sdke2e) and its HTTP API.
package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jindou-im/jindou/internal/proclog"
)

// jindouBin is the binary under test, built by TestMain.
var jindouBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "jindou-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	jindouBin = filepath.Join(dir, "jindou")
	build := exec.Command("go", "build", "-o", jindouBin, "github.com/jindou-im/jindou/cmd/jindou")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: building jindou: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// nodeOpts say how to start a node.
type nodeOpts struct {
	// dataDir is reused across restarts; empty: a fresh temporary one.
	dataDir string
	// env are extra JINDOU_* settings; args extra arguments to `run`.
	env  []string
	args []string
	// httpAddr, if set, replaces the port-0 HTTP listener.
	httpAddr, tcpAddr string
}

// proc is one jindou process.
type proc struct {
	t       *testing.T
	cmd     *exec.Cmd
	dataDir string
	// TCP, WS (a ws:// URL) and HTTP (an http:// URL) are the bound
	// addresses, from the "serving" log line.
	TCP, WS, HTTP string

	log     *proclog.Log
	exited  chan struct{}
	waitErr error // set before exited is closed
}

// launch starts jindou and returns without waiting for it to serve.
func launch(t *testing.T, o nodeOpts) *proc {
	t.Helper()
	if o.dataDir == "" {
		o.dataDir = t.TempDir()
	}
	if o.httpAddr == "" {
		o.httpAddr = "127.0.0.1:0"
	}
	if o.tcpAddr == "" {
		o.tcpAddr = "127.0.0.1:0"
	}
	args := append([]string{"run", "--log-format", "json", "--data-dir", o.dataDir}, o.args...)
	cmd := exec.Command(jindouBin, args...)
	cmd.Env = append(os.Environ(), "JINDOU_TCP_ADDR="+o.tcpAddr, "JINDOU_WS_ADDR=127.0.0.1:0",
		"JINDOU_HTTP_ADDR="+o.httpAddr)
	cmd.Env = append(cmd.Env, o.env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	p := &proc{t: t, cmd: cmd, dataDir: o.dataDir, log: proclog.New(), exited: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p.log.Follow(cmd, stderr, func(err error) {
		p.waitErr = err
		close(p.exited)
	})
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("jindou (pid %d) log:\n%s", cmd.Process.Pid, p.Logs())
		}
	})
	return p
}

// startNode starts jindou and waits until it serves and /readyz is 200.
func startNode(t *testing.T, o nodeOpts) *proc {
	t.Helper()
	p := launch(t, o)
	p.awaitServing()
	p.awaitReady(30 * time.Second)
	return p
}

// awaitServing waits for the "serving" log line and reads the bound
// addresses from it.
func (p *proc) awaitServing() {
	t := p.t
	t.Helper()
	select {
	case f := <-p.log.Serving:
		p.TCP, _ = f["tcp"].(string)
		ws, _ := f["ws"].(string)
		p.WS = "ws://" + ws
		h, _ := f["http"].(string)
		p.HTTP = "http://" + h
	case <-p.exited:
		t.Fatalf("jindou exited before serving: %v\n%s", p.waitErr, p.Logs())
	case <-time.After(30 * time.Second):
		t.Fatalf("jindou did not serve within 30 s:\n%s", p.Logs())
	}
}

// awaitReady waits until /readyz answers 200.
func (p *proc) awaitReady(within time.Duration) {
	t := p.t
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		resp, err := http.Get(p.HTTP + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("jindou not ready within %v (%v)", within, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Logs is everything the process wrote to stderr so far.
func (p *proc) Logs() string {
	return p.log.String()
}

// LogLines are the JSON log lines with msg.
func (p *proc) LogLines(msg string) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(p.Logs(), "\n") {
		var f map[string]any
		if json.Unmarshal([]byte(line), &f) == nil && f["msg"] == msg {
			out = append(out, f)
		}
	}
	return out
}

// signal sends sig to the process.
func (p *proc) signal(sig syscall.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatal(err)
	}
}

// wait waits for the process to exit and returns its exit code.
func (p *proc) wait(timeout time.Duration) int {
	p.t.Helper()
	select {
	case <-p.exited:
	case <-time.After(timeout):
		p.t.Fatalf("jindou did not exit within %v:\n%s", timeout, p.Logs())
	}
	var ee *exec.ExitError
	if errors.As(p.waitErr, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return -int(ws.Signal())
		}
		return ee.ExitCode()
	}
	if p.waitErr != nil {
		p.t.Fatalf("waiting for jindou: %v", p.waitErr)
	}
	return 0
}

// kill9 kills the process with SIGKILL and waits for it.
func (p *proc) kill9() {
	p.t.Helper()
	p.signal(syscall.SIGKILL)
	p.wait(10 * time.Second)
}

// envelope is the API's {"status":..., "msg":..., "data":...}.
type envelope struct {
	Status int             `json:"status"`
	Msg    string          `json:"msg"`
	Data   json.RawMessage `json:"data"`
}

// post POSTs body to the HTTP API and decodes a 200 answer into out
// (nil: ignore it).
func (p *proc) post(path string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	resp, err := httpClient.Post(p.HTTP+path, "application/json", bytes.NewReader(b))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %s: %s: %s", path, resp.Status, rb)
	}
	if out != nil {
		return json.Unmarshal(rb, out)
	}
	return nil
}

// mustPost is post that fails the test.
func (p *proc) mustPost(path string, body, out any) {
	p.t.Helper()
	if err := p.post(path, body, out); err != nil {
		p.t.Fatal(err)
	}
}

var httpClient = &http.Client{Timeout: 20 * time.Second}

// message is a Message of the API.
type message struct {
	MessageID   int64  `json:"message_id"`
	ClientMsgNo string `json:"client_msg_no"`
	MessageSeq  uint64 `json:"message_seq"`
	FromUID     string `json:"from_uid"`
	ChannelID   string `json:"channel_id"`
	ChannelType uint8  `json:"channel_type"`
	Payload     []byte `json:"payload"`
}

// history reads a channel's whole log as loginUID sees it, oldest first,
// through /channel/messagesync (pull up, pages of 1000).
func (p *proc) history(loginUID, channelID string, channelType uint8) []message {
	p.t.Helper()
	var all []message
	start := uint64(1)
	for {
		var r struct {
			More     int       `json:"more"`
			Messages []message `json:"messages"`
		}
		p.mustPost("/channel/messagesync", map[string]any{"login_uid": loginUID, "channel_id": channelID,
			"channel_type": channelType, "start_message_seq": start, "end_message_seq": 0, "limit": 1000, "pull_mode": 1}, &r)
		all = append(all, r.Messages...)
		if r.More == 0 || len(r.Messages) == 0 {
			return all
		}
		start = r.Messages[len(r.Messages)-1].MessageSeq + 1
	}
}
