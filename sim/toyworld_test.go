package sim_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/jindou-im/jindou/internal/toy"
	"github.com/jindou-im/jindou/runtime"
	"github.com/jindou-im/jindou/sim"
)

// toyWorld is a cluster of toy counters with clients adding to them.
type toyWorld struct {
	s       *sim.Sim
	ids     []runtime.NodeID
	clients []*toyClient
	// ackedSum[id] is the sum of every addition node id acknowledged.
	ackedSum map[runtime.NodeID]int64
	// sentSum[id] is the sum of every addition sent to node id.
	sentSum map[runtime.NodeID]int64
}

func newToyWorld(seed uint64, nodes int) *toyWorld {
	w := &toyWorld{s: sim.New(sim.Config{Seed: seed}), ackedSum: map[runtime.NodeID]int64{}, sentSum: map[runtime.NodeID]int64{}}
	for i := 1; i <= nodes; i++ {
		w.ids = append(w.ids, runtime.NodeID(i))
	}
	for _, id := range w.ids {
		w.s.AddProcess(id, func() runtime.Process { return toy.New(w.ids) }).Start()
	}
	return w
}

func (w *toyWorld) counter(id runtime.NodeID) *toy.Counter {
	return w.s.Proc(id).Process().(*toy.Counter)
}

// addClient adds a client that connects to node and sends an addition every
// interval, reconnecting after its connection drops.
func (w *toyWorld) addClient(node runtime.NodeID, interval time.Duration) *toyClient {
	c := &toyClient{w: w, node: node, interval: interval, rng: rand.New(w.s.Rand(fmt.Sprintf("client/%d", len(w.clients))))}
	c.loop = w.s.NewActor(fmt.Sprintf("client-%d", len(w.clients)), c)
	w.clients = append(w.clients, c)
	c.dial()
	return c
}

type toyClient struct {
	w        *toyWorld
	loop     runtime.Loop
	node     runtime.NodeID
	interval time.Duration
	rng      *rand.Rand
	conn     runtime.Conn
	open     bool
	lines    toy.Lines
	// inflight holds the additions sent on conn and not yet answered, in
	// order (the counter answers in order).
	inflight []int64
	acked    int
	failed   int
	unknown  int
	replies  []string
}

func (c *toyClient) dial() {
	c.conn = c.w.s.Dial(c.loop, c.node, "tcp")
	c.lines = toy.Lines{}
}

func (c *toyClient) Handle(ev runtime.Event) {
	switch e := ev.(type) {
	case runtime.ConnOpened:
		c.open = true
		c.loop.After(c.interval, "send")
	case runtime.ConnData:
		for _, line := range c.lines.Feed(e.Data) {
			c.onLine(line)
		}
	case runtime.ConnClosed:
		c.open = false
		c.unknown += len(c.inflight)
		c.inflight = nil
		c.loop.After(50*time.Millisecond, "dial")
	case runtime.TimerFired:
		switch e.Tag {
		case "dial":
			c.dial()
		case "send":
			if c.open {
				c.send()
				c.loop.After(c.interval, "send")
			}
		}
	}
}

func (c *toyClient) send() {
	n := 1 + c.rng.Int64N(100)
	c.inflight = append(c.inflight, n)
	c.w.sentSum[c.node] += n
	c.conn.Write(fmt.Appendf(nil, "add %d\n", n))
}

func (c *toyClient) onLine(line string) {
	c.replies = append(c.replies, line)
	if strings.HasPrefix(line, "time ") {
		return
	}
	n := c.inflight[0]
	c.inflight = c.inflight[1:]
	if strings.HasPrefix(line, "ok ") {
		c.acked++
		c.w.ackedSum[c.node] += n
	} else {
		c.failed++
	}
}
