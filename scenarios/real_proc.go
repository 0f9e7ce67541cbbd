package scenarios

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/jindou-im/jindou/internal/proclog"
)

// realProc is one running `jindou run` process, its bound addresses read
// from its "serving" log line.
type realProc struct {
	cmd       *exec.Cmd
	tcp, http string // host:port, and an http:// URL

	log     *proclog.Log
	exited  chan struct{}
	waitErr error // set before exited is closed
}

// procOpts say how to start a node: its data dir and JINDOU_* settings.
type procOpts struct {
	bin, dataDir string
	env          []string
}

// startProc starts jindou with JSON logs; await waits until it serves.
func startProc(o procOpts) (*realProc, error) {
	cmd := exec.Command(o.bin, "run", "--log-format", "json", "--data-dir", o.dataDir)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "JINDOU_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, o.env...)
	cmd.Stdout = io.Discard
	// A test binary killed before its cleanups (a timeout, a signal) takes
	// its nodes with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	p := &realProc{cmd: cmd, log: proclog.New(), exited: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p.log.Follow(cmd, stderr, func(err error) {
		p.waitErr = err
		close(p.exited)
	})
	return p, nil
}

// await waits until p serves and its /readyz answers 200 (its slots have
// caught up), at most within each; on failure p is killed.
func (p *realProc) await(within time.Duration) error {
	if err := p.awaitServing(within); err != nil {
		p.kill()
		return err
	}
	if err := p.awaitReady(within); err != nil {
		p.kill()
		return err
	}
	return nil
}

func (p *realProc) awaitServing(within time.Duration) error {
	select {
	case f := <-p.log.Serving:
		p.tcp, _ = f["tcp"].(string)
		h, _ := f["http"].(string)
		p.http = "http://" + h
		return nil
	case <-p.exited:
		return fmt.Errorf("jindou exited before serving: %v\n%s", p.waitErr, p.tail())
	case <-time.After(within):
		return fmt.Errorf("jindou did not serve within %v:\n%s", within, p.tail())
	}
}

func (p *realProc) awaitReady(within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		resp, err := http.Get(p.http + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("jindou not ready within %v (%v):\n%s", within, err, p.tail())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// tail is the last lines of the process's log.
func (p *realProc) tail() string { return p.log.Tail(20) }

// kill is kill -9, and waits for the exit.
func (p *realProc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// terminate sends SIGTERM and waits for exit status 0.
func (p *realProc) terminate(within time.Duration) error {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case <-p.exited:
	case <-time.After(within):
		p.kill()
		return fmt.Errorf("jindou did not exit within %v of SIGTERM", within)
	}
	var ee *exec.ExitError
	if errors.As(p.waitErr, &ee) {
		return fmt.Errorf("jindou exited %d after SIGTERM:\n%s", ee.ExitCode(), p.tail())
	}
	return p.waitErr
}

// freeAddrs are n distinct 127.0.0.1 ports nothing listens on now, held
// open until release is called, so that no other listener bound meanwhile
// (a proxy of this cluster) can get one.
func freeAddrs(n int) (addrs []string, release func(), err error) {
	var ls []net.Listener
	release = func() {
		for _, l := range ls {
			l.Close()
		}
	}
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			release()
			return nil, nil, err
		}
		ls = append(ls, l)
		addrs = append(addrs, l.Addr().String())
	}
	return addrs, release, nil
}
