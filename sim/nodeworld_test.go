package sim_test

import (
	"fmt"
	"testing"
	"testing/cryptotest"
	"time"

	"github.com/jindou-im/jindou/internal/wkclient"
	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/runtime"
	"github.com/jindou-im/jindou/sim"
)

// nodeWorld is one simulated Jindou node with WKProto clients.
type nodeWorld struct {
	t   testing.TB
	s   *sim.Sim
	cfg node.Config
	p   *sim.Proc
}

func newNodeWorld(t testing.TB, seed uint64, cfg node.Config) *nodeWorld {
	if tt, ok := t.(*testing.T); ok {
		cryptotest.SetGlobalRandom(tt, seed) // etcd raft's election jitter
	}
	w := &nodeWorld{t: t, s: sim.New(sim.Config{Seed: seed}), cfg: cfg}
	w.p = w.s.AddProcess(1, func() runtime.Process { return node.New(w.cfg) })
	w.p.Start()
	return w
}

func (w *nodeWorld) node() *node.Node { return w.p.Process().(*node.Node) }

// client makes a WKProto client of uid on an app device, not yet connected.
func (w *nodeWorld) client(uid, device string) *wkclient.Client {
	return w.clientAs(uid, device, proto.DeviceApp, proto.LatestVersion)
}

func (w *nodeWorld) clientAs(uid, device string, flag proto.DeviceFlag, version uint8) *wkclient.Client {
	c := wkclient.New(uid, device, flag, version, w.s.Rand("client/"+uid+"/"+device))
	loop := w.s.NewActor(uid+"/"+device, c)
	c.Attach(loop, func() runtime.Conn { return w.s.Dial(loop, 1, "tcp") })
	return c
}

// connected makes a client and waits until it is ready.
func (w *nodeWorld) connected(uid, device string) *wkclient.Client {
	return w.connect(w.client(uid, device))
}

func (w *nodeWorld) connect(c *wkclient.Client) *wkclient.Client {
	uid, device := c.UID, c.DeviceID
	c.Connect()
	w.until(fmt.Sprintf("%s/%s connects", uid, device), func() bool { return c.Ready })
	return c
}

// until runs the simulation until cond holds, failing after 30 virtual
// seconds.
func (w *nodeWorld) until(what string, cond func() bool) {
	w.t.Helper()
	deadline := w.s.Now() + 30*time.Second
	for !cond() {
		if w.s.Now() >= deadline {
			w.t.Fatalf("%s: not within 30s of virtual time", what)
		}
		if err := w.s.RunFor(time.Millisecond); err != nil {
			w.t.Fatal(err)
		}
	}
}

// api runs a request to completion.
func (w *nodeWorld) api(req node.Request) (any, error) {
	w.t.Helper()
	var reply any
	var err error
	done := false
	w.s.After(0, "api", func() {
		w.node().Submit(req, func(r any, e error) { reply, err, done = r, e, true })
	})
	w.until(fmt.Sprintf("%T", req), func() bool { return done })
	return reply, err
}

func (w *nodeWorld) mustAPI(req node.Request) any {
	w.t.Helper()
	r, err := w.api(req)
	if err != nil {
		w.t.Fatalf("%T: %v", req, err)
	}
	return r
}

// inbox collects what a client receives.
type inbox struct {
	recvs  []*proto.Recv
	plain  []string
	acks   []*proto.Sendack
	discon []*proto.Disconnect
}

func watch(c *wkclient.Client) *inbox {
	in := &inbox{}
	c.OnRecv = func(r *proto.Recv, p []byte) { in.recvs = append(in.recvs, r); in.plain = append(in.plain, string(p)) }
	c.OnSendack = func(_ *wkclient.Sent, a *proto.Sendack) { in.acks = append(in.acks, a) }
	c.OnDisconnect = func(d *proto.Disconnect) { in.discon = append(in.discon, d) }
	return in
}

// waitReady polls node.Ready until the node serves.
func (w *nodeWorld) waitReady() {
	w.t.Helper()
	for i := 0; ; i++ {
		if w.mustAPI(node.Ready{}).(node.ReadyReply).Ready {
			return
		}
		if i == 1000 {
			w.t.Fatal("the node never became ready")
		}
		if err := w.s.RunFor(10 * time.Millisecond); err != nil {
			w.t.Fatal(err)
		}
	}
}
