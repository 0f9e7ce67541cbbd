package e2e

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// A cluster of real jindou processes on 127.0.0.1. Every node has fixed
// ports (so that a restart keeps them) and its own data dir. With proxied
// set, every peer link i->j goes through its own toxiproxy proxy, run in
// this process as a library: node i's cluster_nodes names, for each other
// node j, the proxy of the link i->j, and its own entry its real listener.
// The lists differ only in addresses; the member ids, which make the
// cluster id, are the same on every node.

// clusterOpts say how to start a cluster.
type clusterOpts struct {
	nodes, slots int
	proxied      bool
	// env are extra JINDOU_* settings of every node.
	env []string
}

// cluster is the running cluster.
type cluster struct {
	t     *testing.T
	token string
	o     clusterOpts
	// procs are the current processes by node index (node id = index+1),
	// guarded by procsMu (senders read them while a node restarts); opts
	// how each is started again.
	procsMu sync.RWMutex
	procs   []*proc
	opts    []nodeOpts
	// links are the proxies by [from, to] node index (proxied only).
	links map[[2]int]*toxiproxy.Proxy
	// down are the nodes stopped or killed and not yet restarted.
	down []atomic.Bool
}

// liveFrom is node i, or the next one after it that is not down.
func (c *cluster) liveFrom(i int) int {
	for k := range c.procs {
		if j := (i + k) % len(c.procs); !c.down[j].Load() {
			return j
		}
	}
	return i
}

// freePorts are n distinct ports nothing listens on now, held open until
// release is called: so neither the kernel nor a toxiproxy proxy bound
// meanwhile can get one of them.
func freePorts(t *testing.T, n int) (ports []string, release func()) {
	t.Helper()
	var ls []net.Listener
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().String())
	}
	return ports, func() {
		for _, l := range ls {
			l.Close()
		}
	}
}

// startCluster starts every node, then waits until each is ready.
func startCluster(t *testing.T, o clusterOpts) *cluster {
	t.Helper()
	if o.slots == 0 {
		o.slots = 16
	}
	c := &cluster{t: t, token: "e2e-cluster-token", o: o, procs: make([]*proc, o.nodes), links: map[[2]int]*toxiproxy.Proxy{},
		down: make([]atomic.Bool, o.nodes)}
	ports, release := freePorts(t, 4*o.nodes)
	peers, ports := ports[:o.nodes], ports[o.nodes:]
	var srv *toxiproxy.ApiServer
	if o.proxied {
		srv = toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	}
	for i := range o.nodes {
		var members []string
		for j := range o.nodes {
			addr := peers[j]
			if o.proxied && i != j {
				px := toxiproxy.NewProxy(srv, fmt.Sprintf("link-%d-%d", i+1, j+1), "127.0.0.1:0", peers[j])
				if err := px.Start(); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(px.Stop)
				c.links[[2]int{i, j}] = px
				addr = px.Listen
			}
			members = append(members, fmt.Sprintf("%d@%s", j+1, addr))
		}
		env := append([]string{fmt.Sprintf("JINDOU_NODE_ID=%d", i+1), fmt.Sprintf("JINDOU_SLOTS=%d", o.slots),
			"JINDOU_CLUSTER_NODES=" + strings.Join(members, ","), "JINDOU_CLUSTER_ADDR=" + peers[i],
			"JINDOU_CLUSTER_TOKEN=" + c.token, "JINDOU_WS_ADDR=" + ports[3*i], "JINDOU_REACTORS=1"}, o.env...)
		c.opts = append(c.opts, nodeOpts{dataDir: t.TempDir(), env: env, httpAddr: ports[3*i+1], tcpAddr: ports[3*i+2]})
	}
	release()
	for i := range c.procs {
		c.procs[i] = launch(t, c.opts[i])
	}
	for _, p := range c.procs {
		p.awaitServing()
	}
	for _, p := range c.procs {
		p.awaitReady(60 * time.Second)
	}
	return c
}

// node is the current process of node index i.
func (c *cluster) node(i int) *proc {
	c.procsMu.RLock()
	defer c.procsMu.RUnlock()
	return c.procs[i]
}

// kill9 kills node i with SIGKILL.
func (c *cluster) kill9(i int) {
	c.down[i].Store(true)
	c.procs[i].kill9()
}

// stop stops node i with SIGTERM and waits for it to exit 0.
func (c *cluster) stop(i int) {
	c.t.Helper()
	c.down[i].Store(true)
	c.procs[i].signal(syscall.SIGTERM)
	if code := c.procs[i].wait(30 * time.Second); code != 0 {
		c.t.Fatalf("node %d exited %d after SIGTERM", i+1, code)
	}
}

// restart starts node i again on its data dir and ports and waits until
// it is ready.
func (c *cluster) restart(i int) {
	c.t.Helper()
	p := launch(c.t, c.opts[i])
	p.awaitServing()
	p.awaitReady(60 * time.Second)
	c.procsMu.Lock()
	c.procs[i] = p
	c.procsMu.Unlock()
	c.down[i].Store(false)
}

// slotView is one slot of /cluster/slots.
type slotView struct {
	Slot     int      `json:"slot"`
	Leader   uint64   `json:"leader"`
	Replicas []uint64 `json:"replicas"`
	Role     string   `json:"role"`
	Replica  bool     `json:"replica"` // this node holds a replica
	Term     uint64   `json:"term"`
	Applied  uint64   `json:"applied"`
}

// slots is p's /cluster/slots.
func (p *proc) slots() []slotView {
	p.t.Helper()
	var r struct {
		Slots []slotView `json:"slots"`
	}
	p.getJSON("/cluster/slots", &r)
	return r.Slots
}

// busiestLeader is the index of the node leading the most slots, as node
// from sees it, and the slots it leads.
func (c *cluster) busiestLeader(from int) (int, map[int]bool) {
	led := map[uint64][]int{}
	for _, s := range c.procs[from].slots() {
		led[s.Leader] = append(led[s.Leader], s.Slot)
	}
	best := uint64(0)
	for id, ss := range led {
		if id != 0 && (best == 0 || len(ss) > len(led[best]) || (len(ss) == len(led[best]) && id < best)) {
			best = id
		}
	}
	out := map[int]bool{}
	for _, s := range led[best] {
		out[s] = true
	}
	return int(best) - 1, out
}

// cut stops every byte of the link from -> to, both streams of its
// connections (node from's frames upstream, the handshake's answer
// downstream), with toxiproxy timeout toxics of 0: data is dropped and
// connections stay open. heal removes them, which closes the link's
// connections, and node from dials again.
func (c *cluster) cut(from, to int) {
	c.t.Helper()
	for _, dir := range []string{"upstream", "downstream"} {
		c.addToxic(from, to, "cut-"+dir, fmt.Sprintf(`"type":"timeout","stream":%q,"attributes":{"timeout":0}`, dir))
	}
}

func (c *cluster) heal(from, to int) {
	c.t.Helper()
	c.removeToxic(from, to, "cut-upstream")
	c.removeToxic(from, to, "cut-downstream")
}

// slow adds latency ms (and jitter) to both directions of the link from
// -> to's connections.
func (c *cluster) slow(from, to, ms int) {
	c.t.Helper()
	for _, dir := range []string{"upstream", "downstream"} {
		c.addToxic(from, to, "slow-"+dir, fmt.Sprintf(`"type":"latency","stream":%q,"attributes":{"latency":%d,"jitter":%d}`, dir, ms, ms/4))
	}
}

func (c *cluster) unslow(from, to int) {
	c.t.Helper()
	c.removeToxic(from, to, "slow-upstream")
	c.removeToxic(from, to, "slow-downstream")
}

var toxicMu sync.Mutex

func (c *cluster) addToxic(from, to int, name, body string) {
	c.t.Helper()
	toxicMu.Lock()
	defer toxicMu.Unlock()
	px := c.links[[2]int{from, to}]
	if _, err := px.Toxics.AddToxicJson(strings.NewReader(fmt.Sprintf(`{"name":%q,%s}`, name, body))); err != nil {
		c.t.Fatalf("toxic %s on %d->%d: %v", name, from+1, to+1, err)
	}
}

func (c *cluster) removeToxic(from, to int, name string) {
	c.t.Helper()
	toxicMu.Lock()
	defer toxicMu.Unlock()
	if err := c.links[[2]int{from, to}].Toxics.RemoveToxic(c.t.Context(), name); err != nil {
		c.t.Fatalf("remove toxic %s on %d->%d: %v", name, from+1, to+1, err)
	}
}

// eachLinkOf calls act(from, to) for each of node i's outgoing links, or
// each of its incoming ones.
func (c *cluster) eachLinkOf(i int, outgoing bool, act func(from, to int)) {
	for j := range c.procs {
		switch {
		case j == i:
		case outgoing:
			act(i, j)
		default:
			act(j, i)
		}
	}
}

// isolate cuts node i off from every other node, both ways; rejoin heals.
func (c *cluster) isolate(i int) {
	c.eachLinkOf(i, true, c.cut)
	c.eachLinkOf(i, false, c.cut)
}

func (c *cluster) rejoin(i int) {
	c.eachLinkOf(i, true, c.heal)
	c.eachLinkOf(i, false, c.heal)
}

// waitConverged waits until every node reports, for every slot, the same
// leader and the same applied index (the cluster is idle and healed).
func (c *cluster) waitConverged(within time.Duration) {
	c.t.Helper()
	var last string
	defer func() {
		if c.t.Failed() {
			c.t.Logf("not converged: %s", last)
		}
	}()
	waitFor(c.t, within, "every replica of every slot at the same applied index under one leader", func() bool {
		views := make([][]slotView, len(c.procs))
		for i := range c.procs {
			views[i] = c.node(i).slots()
		}
		for s := range views[0] {
			for i := range views {
				a, b := views[0][s], views[i][s]
				if a.Leader == 0 || a.Leader != b.Leader || a.Applied != b.Applied {
					last = fmt.Sprintf("slot %d: node 1 sees leader %d applied %d, node %d leader %d applied %d",
						s, a.Leader, a.Applied, i+1, b.Leader, b.Applied)
					return false
				}
			}
		}
		return true
	})
}
