package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jindou-im/jindou/wkclient"
	"github.com/spf13/cobra"
)

// idleSummary is `bench idle --json`; the memory figures are in bytes and
// present only with --pid.
type idleSummary struct {
	Transport        string  `json:"transport"`
	Connections      int64   `json:"connections"`
	Failed           int64   `json:"failed"`
	LoginSeconds     float64 `json:"login_seconds"`
	RSSNote          string  `json:"rss_note,omitempty"`
	RSSBefore        int64   `json:"rss_before,omitempty"`
	RSSAfter         int64   `json:"rss_after,omitempty"`
	RSSPerConnection float64 `json:"rss_per_connection,omitempty"`
	GoBefore         float64 `json:"go_heap_stacks_before,omitempty"`
	GoAfter          float64 `json:"go_heap_stacks_after,omitempty"`
	GoPerConnection  float64 `json:"go_heap_stacks_per_connection,omitempty"`
}

// benchIdleCmd holds N connections open (after CONNECT) until SIGINT,
// SIGTERM or end of standard input; with --pid it reports the server's
// RSS before and after, per connection.
func benchIdleCmd(o *benchOpts) *cobra.Command {
	var n, conc int
	var pid int
	var settle time.Duration
	var hold, asJSON bool
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
			inParallel(n, conc, time.Time{}, func(i int) {
				c, err := o.dial(fmt.Sprintf("%s-i%d", o.prefix, i))
				if err != nil {
					failed.Add(1)
					return
				}
				conns[i] = c
			})
			defer func() {
				for _, c := range conns {
					if c != nil {
						c.Close()
					}
				}
			}()
			open := int64(n) - failed.Load()
			sum := idleSummary{Transport: o.transport(), Connections: open, Failed: failed.Load(),
				LoginSeconds: time.Since(start).Seconds()}
			if !asJSON {
				fmt.Fprintf(out, "idle: %s: %d connections logged in (%d failed) in %v\n", o.transport(),
					open, failed.Load(), time.Since(start).Round(time.Millisecond))
			}
			if pid != 0 {
				o.serverGC()
				time.Sleep(settle)
				after, err := rssOf(pid)
				if err != nil {
					return err
				}
				sum.RSSNote, sum.RSSBefore, sum.RSSAfter = gcNote, base, after
				sum.RSSPerConnection = float64(after-base) / float64(max(open, 1))
				if afterGo := o.goMemory(); baseGo > 0 && afterGo > 0 {
					sum.GoBefore, sum.GoAfter = baseGo, afterGo
					sum.GoPerConnection = (afterGo - baseGo) / float64(max(open, 1))
				}
				if !asJSON {
					fmt.Fprintf(out, "idle: server pid %d RSS (%s) %.1f MiB before, %.1f MiB with %d connections: %.2f KiB per connection\n",
						pid, gcNote, float64(base)/(1<<20), float64(after)/(1<<20), open, sum.RSSPerConnection/1024)
					if sum.GoAfter > 0 {
						fmt.Fprintf(out, "idle: server Go heap in use + stacks (from /metrics) %.1f MiB before, %.1f MiB after: %.2f KiB per connection\n",
							baseGo/(1<<20), sum.GoAfter/(1<<20), sum.GoPerConnection/1024)
					}
				}
			}
			if asJSON {
				if err := json.NewEncoder(out).Encode(sum); err != nil {
					return err
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
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object instead of the summary")
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
