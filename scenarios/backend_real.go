package scenarios

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/jindou-im/jindou/node"
)

// realSettle is the least a command waits on real processes after it
// acts (the simulator's 10ms after a CONNACK, say): enough for the frames
// of 127.0.0.1 and the other goroutines' scheduling on a loaded machine.
const realSettle = 50 * time.Millisecond

// realPatience bounds a node's start-up, readiness and SIGTERM stop.
const realPatience = 60 * time.Second

// realBackend is a node or a cluster of real `jindou run` processes on
// 127.0.0.1, each with a temporary data dir; the peer links of a cluster
// go through in-process toxiproxy proxies, so that a partition cuts them.
// Clients are wkclient sessions over TCP (real_client.go) and the api
// command is the HTTP API (real_api.go).
type realBackend struct {
	t     testing.TB
	bin   string
	start time.Time

	// events are the clients' reports, queued by their reader goroutines
	// and run on the test's goroutine by pump.
	mu     sync.Mutex
	events []func()

	nodes []*realNode
	// links are the proxies by [from, to] node index, cut those cut now.
	links map[[2]int]*toxiproxy.Proxy
	cut   map[[2]int]bool
	conns []*realConn
}

// realNode is one node: how it starts, and its process while it runs.
type realNode struct {
	opts procOpts
	p    *realProc // nil while down
}

func newRealBackend(t testing.TB, bin string) *realBackend {
	b := &realBackend{t: t, bin: bin, start: time.Now(), links: map[[2]int]*toxiproxy.Proxy{}, cut: map[[2]int]bool{}}
	t.Cleanup(b.close)
	return b
}

// close ends every client, process and proxy; a failed test gets each
// node's log tail.
func (b *realBackend) close() {
	for _, c := range b.conns {
		c.close()
	}
	for i, n := range b.nodes {
		if n.p != nil {
			if b.t.Failed() {
				b.t.Logf("node %d log tail:\n%s", i+1, n.p.tail())
			}
			n.p.kill()
		}
	}
	for _, px := range b.links {
		px.Stop()
	}
}

func (b *realBackend) kind() string       { return "real" }
func (b *realBackend) now() time.Duration { return time.Since(b.start) }

// post queues a client's event for the test's goroutine.
func (b *realBackend) post(f func()) {
	b.mu.Lock()
	b.events = append(b.events, f)
	b.mu.Unlock()
}

// pump runs the queued events, in the order they came.
func (b *realBackend) pump() {
	for {
		b.mu.Lock()
		evs := b.events
		b.events = nil
		b.mu.Unlock()
		if len(evs) == 0 {
			return
		}
		for _, f := range evs {
			f()
		}
	}
}

func (b *realBackend) runFor(d time.Duration) error {
	deadline := time.Now().Add(max(d, realSettle))
	for {
		b.pump()
		left := time.Until(deadline)
		if left <= 0 {
			return nil
		}
		time.Sleep(min(left, 2*time.Millisecond))
	}
}

func (b *realBackend) until(limit time.Duration, cond func() bool) error {
	deadline := time.Now().Add(limit)
	for {
		b.pump()
		if cond() {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %v", limit)
		}
		time.Sleep(time.Millisecond)
	}
}

// baseEnv is every node's configuration: 127.0.0.1 only, one reactor.
func baseEnv(slots int) []string {
	return []string{"JINDOU_SLOTS=" + strconv.Itoa(slots), "JINDOU_REACTORS=1", "JINDOU_LOG_LEVEL=info"}
}

func (b *realBackend) addNode(s nodeSpec) error {
	env := append(baseEnv(s.slots), "JINDOU_TCP_ADDR=127.0.0.1:0", "JINDOU_WS_ADDR=127.0.0.1:0", "JINDOU_HTTP_ADDR=127.0.0.1:0",
		"JINDOU_IDLE_TIMEOUT="+s.idleTimeout.String(), "JINDOU_RESEND_INTERVAL="+s.resendPeriod.String(),
		"JINDOU_TOKEN_AUTH="+strconv.FormatBool(s.tokenAuth))
	b.nodes = []*realNode{{opts: procOpts{bin: b.bin, dataDir: b.t.TempDir(), env: env}}}
	return b.startAll()
}

// addCluster lays the cluster out as e2e/cluster_harness_test.go does:
// fixed ports (a restart keeps them), and node i's cluster_nodes names,
// for each other node j, the proxy of the link i->j.
func (b *realBackend) addCluster(s clusterSpec) error {
	addrs, release, err := freeAddrs(4 * s.size)
	if err != nil {
		return err
	}
	peers, ports := addrs[:s.size], addrs[s.size:]
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	for i := range s.size {
		var members []string
		for j := range s.size {
			addr := peers[j]
			if i != j {
				px := toxiproxy.NewProxy(srv, fmt.Sprintf("link-%d-%d", i+1, j+1), "127.0.0.1:0", peers[j])
				if err := px.Start(); err != nil {
					release()
					return err
				}
				b.links[[2]int{i, j}] = px
				addr = px.Listen
			}
			members = append(members, fmt.Sprintf("%d@%s", j+1, addr))
		}
		env := append(baseEnv(s.slots), fmt.Sprintf("JINDOU_NODE_ID=%d", i+1),
			"JINDOU_CLUSTER_NODES="+strings.Join(members, ","), "JINDOU_CLUSTER_ADDR="+peers[i],
			"JINDOU_CLUSTER_TOKEN=scenarios-cluster-token", fmt.Sprintf("JINDOU_CLUSTER_REPLICAS=%d", s.replicas),
			"JINDOU_WS_ADDR="+ports[3*i], "JINDOU_HTTP_ADDR="+ports[3*i+1], "JINDOU_TCP_ADDR="+ports[3*i+2])
		b.nodes = append(b.nodes, &realNode{opts: procOpts{bin: b.bin, dataDir: b.t.TempDir(), env: env}})
	}
	release()
	return b.startAll()
}

// startAll starts every node, then waits for each: a cluster's nodes are
// ready only once enough of them run.
func (b *realBackend) startAll() error {
	for _, n := range b.nodes {
		p, err := startProc(n.opts)
		if err != nil {
			return err
		}
		n.p = p
	}
	for i, n := range b.nodes {
		if err := n.p.await(realPatience); err != nil {
			n.p = nil
			return fmt.Errorf("node %d: %w", i+1, err)
		}
	}
	return nil
}

func (b *realBackend) nodeIDs() []int {
	ids := make([]int, len(b.nodes))
	for i := range ids {
		ids[i] = i + 1
	}
	return ids
}

func (b *realBackend) node(id int) (*realNode, error) {
	if id < 1 || id > len(b.nodes) {
		return nil, fmt.Errorf("no node %d", id)
	}
	return b.nodes[id-1], nil
}

// proc is node id's process, or an error when it is down.
func (b *realBackend) proc(id int) (*realProc, error) {
	n, err := b.node(id)
	if err != nil {
		return nil, err
	}
	if n.p == nil {
		return nil, fmt.Errorf("node %d is down", id)
	}
	return n.p, nil
}

func (b *realBackend) up(id int) bool {
	_, err := b.proc(id)
	return err == nil
}

// crash is kill -9: the process dies, the kernel keeps what it wrote, synced
// or not. A crash that loses unsynced writes is a power loss, which the
// machine cannot make.
func (b *realBackend) crash(id, keepPct int) (bool, int, error) {
	if keepPct != 100 {
		return false, 0, &skippedError{"real", fmt.Sprintf("crash keep=%d: kill -9 keeps every unsynced write (page cache), only keep=100 is a real crash", keepPct)}
	}
	p, err := b.proc(id)
	if err != nil {
		return false, 0, err
	}
	p.kill()
	b.nodes[id-1].p = nil
	return false, 0, nil
}

func (b *realBackend) restart(id int) error {
	n, err := b.node(id)
	if err != nil {
		return err
	}
	if n.p != nil {
		return fmt.Errorf("the node is up")
	}
	p, err := startProc(n.opts)
	if err != nil {
		return err
	}
	if err := p.await(realPatience); err != nil {
		return err
	}
	n.p = p
	return nil
}

func (b *realBackend) stop(id int) error {
	p, err := b.proc(id)
	if err != nil {
		return err
	}
	b.nodes[id-1].p = nil
	return p.terminate(realPatience)
}

func (b *realBackend) holdDisk(int) error {
	return &skippedError{"real", "hold-disk: a stuck fsync cannot be made on a real disk"}
}

func (b *realBackend) releaseDisk(int) (int, error) {
	return 0, &skippedError{"real", "release-disk: a stuck fsync cannot be made on a real disk"}
}

// slotDigests: the HTTP API shows a slot's applied index but not its state
// digest.
func (b *realBackend) slotDigests(int) ([]node.SlotDigest, error) {
	return nil, &skippedError{"real", "replicas: the HTTP API has no state digest of a slot"}
}
