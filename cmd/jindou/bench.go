package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
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
	// dials counts dials, to spread the clients over the --tcp addresses.
	dials atomic.Uint64
	// cluster: read the nodes from --http's /cluster/nodes; nodes are
	// the nodes of a send or fanout run (bench_cluster.go).
	cluster bool
	nodes   []loadNode
}

func benchCmd() *cobra.Command {
	o := &benchOpts{}
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Load a running node over 127.0.0.1: connects/s, acked sends/s, group fan-out, idle connections",
		Long: "Measurements against a running jindou (start one with `jindou run`).\n" +
			"Loads only the addresses given; every run is bounded in count and time.",
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&o.tcp, "tcp", "127.0.0.1:5100", "the node's WKProto TCP address; a comma-separated list (the nodes of a cluster) spreads the clients over them in turn")
	pf.StringVar(&o.ws, "ws", "", "the node's WebSocket URL (ws://host:port); set to use WebSocket instead of TCP")
	pf.StringVar(&o.http, "http", "http://127.0.0.1:5001", "the node's HTTP API; a comma-separated list, one per --tcp address, sums the server counters over the nodes")
	pf.BoolVar(&o.cluster, "cluster", false, "send and fanout: read every member's TCP and HTTP address from --http's /cluster/nodes; client i dials node i mod N, counters are summed over the nodes")
	pf.StringVar(&o.managerToken, "manager-token", "", "the node's manager token, if it has one")
	pf.StringVar(&o.prefix, "uid-prefix", "bench", "prefix of the bench users' uids")
	pf.DurationVar(&o.timeout, "timeout", 2*time.Minute, "give up after this long")
	cmd.AddCommand(benchConnectCmd(o), benchSendCmd(o), benchFanoutCmd(o), benchIdleCmd(o), benchAllCmd())
	return cmd
}

// dial logs uid in (registering its token first on a token_auth node,
// bench_auth.go).
func (o *benchOpts) dial(uid string) (*wkclient.NetClient, error) {
	opts := wkclient.Options{UID: uid, Token: benchToken(uid), DeviceFlag: proto.DeviceApp}
	return o.dialAuth(uid, func() (*wkclient.NetClient, error) {
		if o.ws != "" {
			return wkclient.DialWS(o.ws, opts)
		}
		return wkclient.DialTCP(o.nextTCP(), opts)
	})
}

// dialAt logs uid in on the node of client i (bench_cluster.go).
func (o *benchOpts) dialAt(uid string, i int) (*wkclient.NetClient, error) {
	if o.ws != "" || len(o.nodes) == 0 {
		return o.dial(uid)
	}
	opts := wkclient.Options{UID: uid, Token: benchToken(uid), DeviceFlag: proto.DeviceApp}
	addr := o.nodes[o.nodeOf(i)].tcp
	return o.dialAuth(uid, func() (*wkclient.NetClient, error) { return wkclient.DialTCP(addr, opts) })
}

// nextTCP is the --tcp address the next client dials: the addresses of a
// list in turn.
func (o *benchOpts) nextTCP() string {
	addrs := strings.Split(o.tcp, ",")
	return strings.TrimSpace(addrs[(o.dials.Add(1)-1)%uint64(len(addrs))])
}

// dialAll logs in one client per uid, conc at a time. On an error it
// returns the clients it has so far (nil where it has none), for the
// caller to close.
func (o *benchOpts) dialAll(uids []string, conc int) ([]*wkclient.NetClient, error) {
	conns := make([]*wkclient.NetClient, len(uids))
	var mu sync.Mutex
	var firstErr error
	inParallel(len(uids), conc, time.Time{}, func(i int) {
		c, err := o.dialAt(uids[i], i)
		if err != nil {
			mu.Lock()
			if firstErr == nil {
				firstErr = fmt.Errorf("connecting %s: %w", uids[i], err)
			}
			mu.Unlock()
			return
		}
		conns[i] = c
	})
	return conns, firstErr
}

// inParallel runs fn(0) … fn(n-1), conc at a time, and returns when all
// have; past until (if set) it starts no more.
func inParallel(n, conc int, until time.Time, fn func(i int)) {
	work := make(chan int)
	var wg sync.WaitGroup
	for range max(conc, 1) {
		wg.Go(func() {
			for i := range work {
				fn(i)
			}
		})
	}
	for i := 0; i < n && (until.IsZero() || time.Now().Before(until)); i++ {
		work <- i
	}
	close(work)
	wg.Wait()
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
			inParallel(n, conc, deadline, func(i int) {
				t0 := time.Now()
				c, err := o.dial(fmt.Sprintf("%s-c%d", o.prefix, i))
				if err != nil {
					failed.Add(1)
					return
				}
				lat.add(time.Since(t0))
				done.Add(1)
				c.Close()
			})
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

// call sends a request to the node's HTTP API, with the manager token if
// there is one, and returns the status and body.
func (o *benchOpts) call(method, path string, body io.Reader) (int, []byte, error) {
	return o.callAt(o.http, method, path, body)
}

// callAt is call to the node whose HTTP API is at base.
func (o *benchOpts) callAt(base, method, path string, body io.Reader) (int, []byte, error) {
	req, err := http.NewRequest(method, strings.TrimSuffix(base, "/")+path, body)
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
