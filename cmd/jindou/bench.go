package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/wkclient"
	"github.com/spf13/cobra"
)

// benchOpts are the options every bench subcommand shares.
type benchOpts struct {
	tcp, ws, http, managerToken string
	prefix                      string
	timeout                     time.Duration
}

func benchCmd() *cobra.Command {
	o := &benchOpts{}
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Load a running node over 127.0.0.1: connects/s, acked sends/s, idle connections",
		Long: "Measurements against a running jindou (start one with `jindou run`).\n" +
			"Loads only the addresses given; every run is bounded in count and time.",
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&o.tcp, "tcp", "127.0.0.1:5100", "the node's WKProto TCP address")
	pf.StringVar(&o.ws, "ws", "", "the node's WebSocket URL (ws://host:port); set to use WebSocket instead of TCP")
	pf.StringVar(&o.http, "http", "http://127.0.0.1:5001", "the node's HTTP API")
	pf.StringVar(&o.managerToken, "manager-token", "", "the node's manager token, if it has one")
	pf.StringVar(&o.prefix, "uid-prefix", "bench", "prefix of the bench users' uids")
	pf.DurationVar(&o.timeout, "timeout", 2*time.Minute, "give up after this long")
	cmd.AddCommand(benchConnectCmd(o), benchSendCmd(o), benchIdleCmd(o))
	return cmd
}

func (o *benchOpts) dial(uid string) (*wkclient.NetClient, error) {
	opts := wkclient.Options{UID: uid, Token: "t-" + uid, DeviceFlag: proto.DeviceApp}
	if o.ws != "" {
		return wkclient.DialWS(o.ws, opts)
	}
	return wkclient.DialTCP(o.tcp, opts)
}

func (o *benchOpts) transport() string {
	if o.ws != "" {
		return "ws " + o.ws
	}
	return "tcp " + o.tcp
}

// benchConnectCmd: N clients do the WKProto handshake, C at a time.
func benchConnectCmd(o *benchOpts) *cobra.Command {
	var n, conc int
	cmd := &cobra.Command{
		Use:   "connect",
		Short: "Connects per second: N clients each dial, CONNECT (encrypted handshake), get CONNACK, then close",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var done, failed atomic.Int64
			var lat latencies
			start := time.Now()
			deadline := start.Add(o.timeout)
			work := make(chan int)
			var wg sync.WaitGroup
			for range conc {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range work {
						t0 := time.Now()
						c, err := o.dial(fmt.Sprintf("%s-c%d", o.prefix, i))
						if err != nil {
							failed.Add(1)
							continue
						}
						lat.add(time.Since(t0))
						done.Add(1)
						c.Close()
					}
				}()
			}
			for i := 0; i < n && time.Now().Before(deadline); i++ {
				work <- i
			}
			close(work)
			wg.Wait()
			el := time.Since(start)
			fmt.Fprintf(cmd.OutOrStdout(), "connect: %s: %d handshakes (%d failed) in %v with %d concurrent: %.0f connects/s; handshake latency %s\n",
				o.transport(), done.Load(), failed.Load(), el.Round(time.Millisecond), conc,
				float64(done.Load())/el.Seconds(), lat.summary())
			if failed.Load() > 0 {
				return fmt.Errorf("%d handshakes failed", failed.Load())
			}
			return nil
		},
	}
	cmd.Flags().IntVarP(&n, "n", "n", 2000, "handshakes")
	cmd.Flags().IntVarP(&conc, "concurrency", "c", 32, "handshakes in flight")
	return cmd
}

// benchSendCmd: M connected clients send, each with a window of sends in
// flight, and count SENDACKs that carry a seq.
func benchSendCmd(o *benchOpts) *cobra.Command {
	var clients, perClient, window, size int
	var mode string
	cmd := &cobra.Command{
		Use:   "send",
		Short: "Acked sends per second: M clients send to person channels (a ring) or one group of all of them",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			uids := make([]string, clients)
			for i := range uids {
				uids[i] = fmt.Sprintf("%s-s%d", o.prefix, i)
			}
			group := o.prefix + "-group"
			switch mode {
			case "person":
			case "group":
				if err := o.post("/channel", map[string]any{"channel_id": group, "channel_type": 2, "subscribers": uids}); err != nil {
					return fmt.Errorf("creating the group: %w", err)
				}
			default:
				return fmt.Errorf("--mode %q: person or group", mode)
			}
			conns := make([]*wkclient.NetClient, clients)
			for i, uid := range uids {
				c, err := o.dial(uid)
				if err != nil {
					return fmt.Errorf("connecting %s: %w", uid, err)
				}
				defer c.Close()
				conns[i] = c
			}
			payload := []byte(`{"type":1,"content":"` + strings.Repeat("x", size) + `"}`)
			var acked, refused, recvs atomic.Int64
			var lat latencies
			deadline := time.Now().Add(o.timeout)
			start := time.Now()
			var wg sync.WaitGroup
			for i, c := range conns {
				to, typ := uids[(i+1)%clients], proto.ChannelPerson
				if mode == "group" {
					to, typ = group, proto.ChannelGroup
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					sendLoop(c, to, typ, payload, perClient, window, deadline, &acked, &refused, &recvs, &lat)
				}()
			}
			wg.Wait()
			el := time.Since(start)
			fmt.Fprintf(cmd.OutOrStdout(), "send: %s, mode %s, %d clients x %d sends, window %d, payload %d B: "+
				"%d acked with a seq (%d refused) in %v: %.0f acked sends/s; %d RECVs received while sending (%.0f/s); ack latency %s\n",
				o.transport(), mode, clients, perClient, window, len(payload), acked.Load(), refused.Load(),
				el.Round(time.Millisecond), float64(acked.Load())/el.Seconds(), recvs.Load(),
				float64(recvs.Load())/el.Seconds(), lat.summary())
			if refused.Load() > 0 || acked.Load() < int64(clients*perClient) {
				return fmt.Errorf("%d of %d sends acked with a seq", acked.Load(), clients*perClient)
			}
			return nil
		},
	}
	cmd.Flags().IntVarP(&clients, "clients", "m", 50, "connected clients")
	cmd.Flags().IntVarP(&perClient, "n", "n", 1000, "sends per client")
	cmd.Flags().IntVarP(&window, "window", "w", 16, "sends in flight per client")
	cmd.Flags().IntVar(&size, "size", 64, "bytes of text per message")
	cmd.Flags().StringVar(&mode, "mode", "person", "person (client i sends to client i+1) or group (one group of all clients)")
	return cmd
}

// sendLoop keeps window sends in flight on c until n are acknowledged,
// acknowledging every RECV it gets.
func sendLoop(c *wkclient.NetClient, to string, typ proto.ChannelType, payload []byte, n, window int, deadline time.Time,
	acked, refused, recvs *atomic.Int64, lat *latencies) {
	slots := make(chan struct{}, window)
	var mu sync.Mutex
	sentAt := map[uint32]time.Time{}
	readerDone := make(chan struct{})
	var got int
	go func() {
		defer close(readerDone)
		for got < n {
			p, err := c.Next(deadline)
			if err != nil {
				return
			}
			switch v := p.(type) {
			case *proto.Sendack:
				mu.Lock()
				t0 := sentAt[v.ClientSeq]
				delete(sentAt, v.ClientSeq)
				mu.Unlock()
				if v.ReasonCode == proto.ReasonSuccess && v.MessageSeq > 0 {
					acked.Add(1)
					lat.add(time.Since(t0))
				} else {
					refused.Add(1)
				}
				got++
				<-slots
			case *proto.Recv:
				recvs.Add(1)
				_ = c.Ack(v)
			}
		}
	}()
	for i := 0; i < n; i++ {
		select {
		case slots <- struct{}{}:
		case <-readerDone:
			return
		}
		mu.Lock()
		seq, err := c.Send(to, typ, "", payload)
		sentAt[seq] = time.Now()
		mu.Unlock()
		if err != nil {
			break
		}
	}
	<-readerDone
}

// benchIdleCmd holds N connections open (after CONNECT) until SIGINT,
// SIGTERM or end of standard input; with --pid it reports the server's
// RSS before and after, per connection.
func benchIdleCmd(o *benchOpts) *cobra.Command {
	var n, conc int
	var pid int
	var settle time.Duration
	var hold bool
	cmd := &cobra.Command{
		Use:   "idle",
		Short: "Hold N idle logged-in connections; with --pid, the server's RSS per connection",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			var base int64
			var baseGo float64
			gcNote := "settled"
			if pid != 0 {
				if o.serverGC() {
					gcNote = "after GC"
				}
				time.Sleep(settle)
				var err error
				if base, err = rssOf(pid); err != nil {
					return err
				}
				baseGo = o.goMemory()
			}
			conns := make([]*wkclient.NetClient, n)
			var failed atomic.Int64
			start := time.Now()
			work := make(chan int)
			var wg sync.WaitGroup
			for range conc {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range work {
						c, err := o.dial(fmt.Sprintf("%s-i%d", o.prefix, i))
						if err != nil {
							failed.Add(1)
							continue
						}
						conns[i] = c
					}
				}()
			}
			for i := range n {
				work <- i
			}
			close(work)
			wg.Wait()
			defer func() {
				for _, c := range conns {
					if c != nil {
						c.Close()
					}
				}
			}()
			fmt.Fprintf(out, "idle: %s: %d connections logged in (%d failed) in %v\n", o.transport(),
				int64(n)-failed.Load(), failed.Load(), time.Since(start).Round(time.Millisecond))
			if pid != 0 {
				o.serverGC()
				time.Sleep(settle)
				after, err := rssOf(pid)
				if err != nil {
					return err
				}
				open := int64(n) - failed.Load()
				fmt.Fprintf(out, "idle: server pid %d RSS (%s) %.1f MiB before, %.1f MiB with %d connections: %.1f KiB per connection\n",
					pid, gcNote, float64(base)/(1<<20), float64(after)/(1<<20), open, float64(after-base)/float64(max(open, 1))/1024)
				if afterGo := o.goMemory(); baseGo > 0 && afterGo > 0 {
					fmt.Fprintf(out, "idle: server Go heap in use + stacks (from /metrics) %.1f MiB before, %.1f MiB after: %.1f KiB per connection\n",
						baseGo/(1<<20), afterGo/(1<<20), (afterGo-baseGo)/float64(max(open, 1))/1024)
				}
			}
			if hold {
				fmt.Fprintln(out, "idle: holding; end with Ctrl-C, SIGTERM or end of standard input")
				waitForEnd()
			}
			return nil
		},
	}
	cmd.Flags().IntVarP(&n, "n", "n", 10000, "connections")
	cmd.Flags().IntVarP(&conc, "concurrency", "c", 64, "handshakes in flight")
	cmd.Flags().IntVar(&pid, "pid", 0, "the server's pid, to read its VmRSS from /proc")
	cmd.Flags().DurationVar(&settle, "settle", 5*time.Second, "wait before each RSS reading")
	cmd.Flags().BoolVar(&hold, "hold", false, "keep the connections open until a signal or end of standard input")
	return cmd
}

func waitForEnd() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	eof := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		close(eof)
	}()
	select {
	case <-ctx.Done():
	case <-eof:
	}
}

// rssOf reads VmRSS of a process, in bytes.
func rssOf(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			kb, err := strconv.ParseInt(f[0], 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// serverGC asks the node to collect garbage (its profiler's heap endpoint
// runs a GC first), so that RSS is read after GC; it reports whether the
// node did.
func (o *benchOpts) serverGC() bool {
	status, _, err := o.call(http.MethodGet, "/debug/pprof/heap?gc=1", nil)
	return err == nil && status == http.StatusOK
}

// call sends a request to the node's HTTP API, with the manager token if
// there is one, and returns the status and body.
func (o *benchOpts) call(method, path string, body io.Reader) (int, []byte, error) {
	req, err := http.NewRequest(method, strings.TrimSuffix(o.http, "/")+path, body)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if o.managerToken != "" {
		req.Header.Set("token", o.managerToken)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// goMemory reads go_memstats_heap_inuse_bytes + go_memstats_stack_inuse_bytes
// from the node's /metrics; 0 if it cannot.
func (o *benchOpts) goMemory() float64 {
	_, b, err := o.call(http.MethodGet, "/metrics", nil)
	if err != nil {
		return 0
	}
	var sum float64
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && (f[0] == "go_memstats_heap_inuse_bytes" || f[0] == "go_memstats_stack_inuse_bytes") {
			v, _ := strconv.ParseFloat(f[1], 64)
			sum += v
		}
	}
	return sum
}

// post sends a JSON request to the node's HTTP API.
func (o *benchOpts) post(path string, body any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	status, rb, err := o.call(http.MethodPost, path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("POST %s: HTTP %d: %s", path, status, rb)
	}
	return nil
}

// latencies collects durations for percentiles.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

func (l *latencies) summary() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.d) == 0 {
		return "n/a"
	}
	sort.Slice(l.d, func(i, j int) bool { return l.d[i] < l.d[j] })
	q := func(f float64) time.Duration {
		return l.d[min(len(l.d)-1, int(f*float64(len(l.d))))].Round(10 * time.Microsecond)
	}
	return fmt.Sprintf("p50 %v p99 %v max %v", q(0.5), q(0.99), l.d[len(l.d)-1].Round(10*time.Microsecond))
}
