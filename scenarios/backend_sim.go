package scenarios

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/runtime"
	"github.com/jindou-im/jindou/sim/world"
)

// simBackend is the simulated world (sim/world): virtual time, the
// seeded network, crashable disks.
type simBackend struct{ w *world.World }

func newSimBackend(t testing.TB, seed uint64) *simBackend {
	return &simBackend{w: world.New(t, seed, world.WithPatience(10*time.Second))}
}

func (b *simBackend) kind() string                 { return "sim" }
func (b *simBackend) now() time.Duration           { return b.w.Now() }
func (b *simBackend) runFor(d time.Duration) error { return b.w.Sim.RunFor(d) }
func (b *simBackend) until(limit time.Duration, cond func() bool) error {
	return b.w.Await(limit, time.Millisecond, cond)
}

func (b *simBackend) addNode(s nodeSpec) error {
	cfg := node.Config{Slots: s.slots, TokenAuth: s.tokenAuth, IdleTimeout: s.idleTimeout, ResendInterval: s.resendPeriod}
	return b.w.AddNode(1, cfg).AwaitReady()
}

func (b *simBackend) addCluster(s clusterSpec) error {
	for _, n := range b.w.AddCluster(s.size, node.Config{Slots: s.slots, ReplicaCount: s.replicas}) {
		if err := n.AwaitReady(); err != nil {
			return err
		}
	}
	return nil
}

func (b *simBackend) nodeIDs() []int {
	var ids []int
	for _, n := range b.w.Nodes() {
		ids = append(ids, int(n.ID()))
	}
	return ids
}

func (b *simBackend) node(id int) (*world.Node, error) {
	n := b.w.Node(runtime.NodeID(id))
	if n == nil {
		return nil, fmt.Errorf("no node %d", id)
	}
	return n, nil
}

// upNode is node id if it runs.
func (b *simBackend) upNode(id int) (*world.Node, error) {
	n, err := b.node(id)
	if err == nil && !n.Up() {
		err = errors.New("the node is down")
	}
	return n, err
}

func (b *simBackend) up(id int) bool {
	n, err := b.node(id)
	return err == nil && n.Up()
}

func (b *simBackend) crash(id, keepPct int) (bool, int, error) {
	n, err := b.upNode(id)
	if err != nil {
		return false, 0, err
	}
	held, waiting := n.Proc().DiskHeld()
	n.Crash(keepPct)
	return held, waiting, nil
}

func (b *simBackend) restart(id int) error {
	n, err := b.node(id)
	if err != nil {
		return err
	}
	if n.Up() {
		return errors.New("the node is up")
	}
	if err := n.Start(); err != nil {
		return err
	}
	return n.AwaitReady()
}

func (b *simBackend) stop(id int) error {
	n, err := b.upNode(id)
	if err == nil {
		n.Stop()
	}
	return err
}

func (b *simBackend) holdDisk(id int) error {
	n, err := b.upNode(id)
	if err == nil {
		n.HoldDisk()
	}
	return err
}

func (b *simBackend) releaseDisk(id int) (int, error) {
	n, err := b.upNode(id)
	if err != nil {
		return 0, err
	}
	if held, _ := n.Proc().DiskHeld(); !held {
		return 0, errors.New("the disk is not held")
	}
	return n.ReleaseDisk(), nil
}

func (b *simBackend) call(id int, req node.Request) (any, error) {
	n, err := b.node(id)
	if err != nil {
		return nil, err
	}
	return n.Call(req)
}

func (b *simBackend) leaderOf(slot int) (int, error) {
	if n := b.w.LeaderOf(slot); n != nil {
		return int(n.ID()), nil
	}
	return 0, nil
}

func (b *simBackend) isolate(id int) error {
	if _, err := b.node(id); err != nil {
		return err
	}
	b.w.Sim.Isolate(runtime.NodeID(id))
	return nil
}

func (b *simBackend) heal() error { b.w.Sim.Heal(); return nil }

func (b *simBackend) slotDigests(id int) ([]node.SlotDigest, error) {
	v, err := b.call(id, node.SlotDigests{})
	if err != nil {
		return nil, err
	}
	return v.([]node.SlotDigest), nil
}

// simConn is a world.Client.
type simConn struct{ c *world.Client }

func (b *simBackend) newClient(s clientSpec, ev clientEvents) conn {
	c := b.w.NewClient(world.ClientSpec{Name: s.name, UID: s.uid, Device: s.device, Flag: s.flag, Version: s.version,
		Node: runtime.NodeID(s.node)})
	c.OnConnack = ev.connack
	c.OnSendack = func(s *world.Sent, a *proto.Sendack) { ev.sendack(s.ClientMsgNo, a) }
	c.OnRecv = ev.recv
	c.OnDisconnect = ev.disconnect
	c.OnClosed = ev.closed
	return &simConn{c: c}
}

func (s *simConn) connect(token string, autoAck bool) {
	s.c.Token, s.c.AutoAck = token, autoAck
	s.c.Connect()
}
func (s *simConn) close()            { s.c.Close() }
func (s *simConn) writeRaw(b []byte) { s.c.WriteRaw(b) }
func (s *simConn) send(to string, typ proto.ChannelType, msgNo string, payload []byte, flags proto.Flags) {
	s.c.Send(to, typ, msgNo, payload, flags, nil)
}
func (s *simConn) inflight() int { return s.c.Inflight() }
func (s *simConn) ready() bool   { return s.c.Ready }
