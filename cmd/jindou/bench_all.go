package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

// allOpts configure `bench all`.
type allOpts struct {
	repo          string
	sendDuration  time.Duration
	fanoutMembers int
	fanoutMsgs    int
	idleN         int
	settle        time.Duration
	coreBenchtime string
	timeout       time.Duration
	noPin         bool
}

// benchAllCmd runs the standard set against nodes it starts itself and
// prints one table of the figures against the project's targets.
func benchAllCmd() *cobra.Command {
	a := &allOpts{}
	cmd := &cobra.Command{
		Use:   "all",
		Short: "The standard measurements (`make bench`): starts nodes on 127.0.0.1, runs send, fanout, idle and the core benchmark, prints one table",
		Long: "Each phase gets a fresh node on a temporary data dir with port-0 loopback listeners, so that\n" +
			"no phase inherits another's memory or leftover work. With taskset, the node runs on CPU 0 and\n" +
			"the load on CPU 1. The nodes and data dirs are removed however the run ends.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return a.run(ctx, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&a.repo, "repo", ".", "the source tree, for the core's benchmark (go test ./sim); empty: skip it")
	f.DurationVar(&a.sendDuration, "send-duration", 10*time.Second, "how long the send run sends")
	f.IntVar(&a.fanoutMembers, "fanout-members", 500, "online members in the fanout run (each an open file in the load and in the node)")
	f.IntVar(&a.fanoutMsgs, "fanout-messages", 400, "messages sent to the group in the fanout run")
	f.IntVar(&a.idleN, "idle-n", 10000, "connections in each idle run")
	f.DurationVar(&a.settle, "settle", 3*time.Second, "wait before each RSS reading of the idle runs")
	f.StringVar(&a.coreBenchtime, "core-benchtime", "20000x", "-benchtime of the core's benchmark")
	f.DurationVar(&a.timeout, "phase-timeout", 3*time.Minute, "give up on a phase after this long")
	f.BoolVar(&a.noPin, "no-pin", false, "do not pin the node and the load to CPUs even if taskset exists")
	return cmd
}

// results are the figures of a run; a phase that failed leaves its error.
type results struct {
	send                         *sendSummary
	fanout                       *fanoutSummary
	idleTCP, idleWS              *idleSummary
	coreNsOp, coreAllocs         float64
	sendErr, fanoutErr           error
	idleTCPErr, idleWSErr, coreE error
}

func (a *allOpts) run(ctx context.Context, out, log io.Writer) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	pin := func(cpu string, argv ...string) []string { return argv }
	if _, err := exec.LookPath("taskset"); err == nil && !a.noPin {
		pin = func(cpu string, argv ...string) []string { return append([]string{"taskset", "-c", cpu}, argv...) }
		fmt.Fprintln(log, "bench: node on CPU 0, load on CPU 1 (taskset)")
	} else {
		fmt.Fprintln(log, "bench: not pinning to CPUs (no taskset, or --no-pin)")
	}
	var r results
	// phase starts a node, runs one bench subcommand against it with
	// --json, and decodes its summary into v.
	phase := func(name string, v any, args ...string) error {
		if ctx.Err() != nil {
			return ctx.Err() // interrupted: start no more nodes
		}
		fmt.Fprintf(log, "bench: %s\n", name)
		n, err := startBenchNode(ctx, exe, pin, log)
		if err != nil {
			return err
		}
		defer n.stop(log)
		argv := append([]string{exe, "bench", "--tcp", n.tcp, "--http", n.http, "--timeout", a.timeout.String()}, args...)
		argv = append(argv, "--json", "--pid", strconv.Itoa(n.cmd.Process.Pid))
		for i, s := range argv {
			if s == "{ws}" {
				argv[i] = n.ws
			}
		}
		return runJSON(ctx, pin("1", argv...), log, v)
	}
	r.send = &sendSummary{}
	r.sendErr = phase("send: 50 clients x 16 in flight, person channels, for "+a.sendDuration.String(), r.send,
		"send", "-m", "50", "-w", "16", "--duration", a.sendDuration.String())
	r.fanout = &fanoutSummary{}
	r.fanoutErr = phase(fmt.Sprintf("fanout: %d online members, %d messages", a.fanoutMembers, a.fanoutMsgs), r.fanout,
		"fanout", "-n", strconv.Itoa(a.fanoutMembers), "-m", strconv.Itoa(a.fanoutMsgs))
	idle := []string{"idle", "-n", strconv.Itoa(a.idleN), "--settle", a.settle.String()}
	r.idleTCP = &idleSummary{}
	r.idleTCPErr = phase(fmt.Sprintf("idle: %d TCP connections", a.idleN), r.idleTCP, idle...)
	r.idleWS = &idleSummary{}
	r.idleWSErr = phase(fmt.Sprintf("idle: %d WebSocket connections", a.idleN), r.idleWS, append(idle, "--ws", "{ws}")...)
	if a.repo != "" && ctx.Err() == nil {
		fmt.Fprintln(log, "bench: core: go test -bench BenchmarkAckedPersonSends ./sim")
		r.coreNsOp, r.coreAllocs, r.coreE = coreBench(ctx, a.repo, a.coreBenchtime, pin, log)
	} else if a.repo == "" {
		r.coreE = errors.New("skipped (--repo empty)")
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	fmt.Fprint(out, r.table(a))
	return errors.Join(r.sendErr, r.fanoutErr, r.idleTCPErr, r.idleWSErr, r.coreE)
}

// benchNode is a jindou started by `bench all`.
type benchNode struct {
	cmd            *exec.Cmd
	dir            string
	tcp, ws, http  string
	exited         chan struct{}
	stderrFinished chan struct{}
}

// startBenchNode starts `jindou run` on a fresh temporary data dir with
// every listener on 127.0.0.1 port 0, and waits until it serves and is
// ready. The node gets SIGKILL if this process dies first (Pdeathsig), so
// even a bench killed hard leaves no node behind.
func startBenchNode(ctx context.Context, exe string, pin func(string, ...string) []string, log io.Writer) (*benchNode, error) {
	dir, err := os.MkdirTemp("", "jindou-bench-")
	if err != nil {
		return nil, err
	}
	argv := pin("0", exe, "run", "--log-format", "json", "--data-dir", dir)
	n := &benchNode{dir: dir, exited: make(chan struct{}), stderrFinished: make(chan struct{})}
	n.cmd = exec.Command(argv[0], argv[1:]...)
	n.cmd.Env = append(os.Environ(), "JINDOU_TCP_ADDR=127.0.0.1:0", "JINDOU_WS_ADDR=127.0.0.1:0", "JINDOU_HTTP_ADDR=127.0.0.1:0")
	n.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stderr, err := n.cmd.StderrPipe()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := n.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	serving := make(chan map[string]any, 1)
	var tail bytes.Buffer // the log, to show if the node fails to start
	go func() {
		defer close(n.stderrFinished)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var f map[string]any
			if tail.Len() < 64<<10 {
				tail.Write(sc.Bytes())
				tail.WriteByte('\n')
			}
			if json.Unmarshal(sc.Bytes(), &f) == nil && f["msg"] == "serving" {
				serving <- f
			}
		}
	}()
	go func() {
		<-n.stderrFinished // Wait closes the pipe: read it all first
		_ = n.cmd.Wait()
		close(n.exited)
	}()
	fail := func(err error) (*benchNode, error) {
		n.stop(io.Discard)
		return nil, err
	}
	select {
	case f := <-serving:
		n.tcp, _ = f["tcp"].(string)
		ws, _ := f["ws"].(string)
		h, _ := f["http"].(string)
		n.ws, n.http = "ws://"+ws, "http://"+h
	case <-n.exited:
		<-n.stderrFinished
		return fail(fmt.Errorf("the node exited before serving:\n%s", tail.String()))
	case <-time.After(30 * time.Second):
		return fail(errors.New("the node did not serve within 30 s"))
	case <-ctx.Done():
		return fail(ctx.Err())
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(n.http + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fail(fmt.Errorf("the node was not ready within 30 s: %v", err))
		}
		time.Sleep(20 * time.Millisecond)
	}
	fmt.Fprintf(log, "bench: node pid %d serving tcp %s, %s, %s, data in %s\n", n.cmd.Process.Pid, n.tcp, n.ws, n.http, dir)
	return n, nil
}

// stop ends the node (SIGTERM, then SIGKILL after 10 s) and removes its
// data dir.
func (n *benchNode) stop(log io.Writer) {
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.exited:
	case <-time.After(10 * time.Second):
		fmt.Fprintf(log, "bench: node pid %d did not stop on SIGTERM within 10 s; killing it\n", n.cmd.Process.Pid)
		_ = n.cmd.Process.Kill()
		<-n.exited
	}
	if err := os.RemoveAll(n.dir); err != nil {
		fmt.Fprintf(log, "bench: removing %s: %v\n", n.dir, err)
	}
}

// runJSON runs argv with its progress going to log and decodes the one
// JSON object it prints into v. The summary is decoded even when the
// command fails (a run that counted a shortfall still says what it saw),
// and the failure is returned.
func runJSON(ctx context.Context, argv []string, log io.Writer, v any) error {
	c := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stdout bytes.Buffer
	c.Stdout, c.Stderr = &stdout, log
	c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	runErr := c.Run()
	if err := json.Unmarshal(stdout.Bytes(), v); err != nil {
		return errors.Join(runErr, fmt.Errorf("%s: no JSON summary (%v): %q", argv[len(argv)-1], err, stdout.String()))
	}
	return runErr
}

// coreBenchLine matches the benchmark's result line, e.g.
// "BenchmarkAckedPersonSends-2  20000  41234 ns/op  5123 B/op  60 allocs/op".
var coreBenchLine = regexp.MustCompile(`(?m)^BenchmarkAckedPersonSends\S*\s+\d+\s+([0-9.]+) ns/op.*?\s([0-9.]+) allocs/op`)

// coreBench runs the core's benchmark in the simulator (pinned like the
// node, so that it gets one core as the node does) and returns ns/op and
// allocs/op.
func coreBench(ctx context.Context, repo, benchtime string, pin func(string, ...string) []string, log io.Writer) (float64, float64, error) {
	argv := pin("0", "go", "test", "-run", "^$", "-bench", "BenchmarkAckedPersonSends", "-benchtime", benchtime, "./sim")
	c := exec.CommandContext(ctx, argv[0], argv[1:]...)
	c.Dir = repo
	var stdout bytes.Buffer
	c.Stdout, c.Stderr = io.MultiWriter(&stdout, log), log
	if err := c.Run(); err != nil {
		return 0, 0, fmt.Errorf("core benchmark: %w", err)
	}
	return parseCoreBench(stdout.String())
}

func parseCoreBench(out string) (nsOp, allocs float64, err error) {
	m := coreBenchLine.FindStringSubmatch(out)
	if m == nil {
		return 0, 0, errors.New("core benchmark: no BenchmarkAckedPersonSends line with ns/op and allocs/op")
	}
	nsOp, _ = strconv.ParseFloat(m[1], 64)
	allocs, _ = strconv.ParseFloat(m[2], 64)
	return nsOp, allocs, nil
}
