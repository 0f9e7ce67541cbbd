package sim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jindou-im/jindou/runtime"
)

// Errors a connection's ConnClosed may carry.
var (
	// ErrConnRefused: nothing was listening (the process was down).
	ErrConnRefused = errors.New("sim: connection refused")
	// ErrConnReset: the connection was cut (a fault or a crash).
	ErrConnReset = errors.New("sim: connection reset")
	// ErrConnEOF: the other side closed the connection.
	ErrConnEOF = errors.New("sim: connection closed by peer")
)

// ConnConfig sets the client connections dialled from now on.
type ConnConfig struct {
	// LatencyMin and LatencyMax bound a one-way delay (uniform, FIFO).
	LatencyMin, LatencyMax time.Duration
	// Fragment splits each flushed write into random pieces that arrive
	// as separate reads, as a real TCP stream may.
	Fragment bool
}

// DefaultConnConfig is a LAN-like client link.
func DefaultConnConfig() ConnConfig {
	return ConnConfig{LatencyMin: 200 * time.Microsecond, LatencyMax: 3 * time.Millisecond}
}

// SetConnConfig configures connections dialled from now on.
func (s *Sim) SetConnConfig(cfg ConnConfig) { s.connCfg = cfg }

// ConnConfig is the configuration connections dialed from now on get.
func (s *Sim) ConnConfig() ConnConfig { return s.connCfg }

// conn is one end of a simulated byte stream.
type conn struct {
	s    *Sim
	id   uint64
	info runtime.ConnInfo
	// owner receives this end's events; nil on a server end not yet
	// accepted.
	owner *loop
	peer  *conn
	// inc is the process incarnation of a server end, nil on a client end.
	inc *incarnation
	cfg ConnConfig
	rng *rand.Rand
	// out is what was written this turn and not yet flushed.
	out []byte
	// closed: this end delivers no more events and ignores writes.
	closed bool
	// last is the latest arrival scheduled from this end, for FIFO order.
	last time.Duration
	// paused: this client end's reader stopped reading (StopReading);
	// its server end holds what it writes in held meanwhile, and owes
	// what exceeds the socket buffer (owed), against the output budget.
	paused bool
	held   []byte
	owed   int
}

func (c *conn) ID() uint64             { return c.id }
func (c *conn) Info() runtime.ConnInfo { return c.info }

func (c *conn) Write(b []byte) {
	if c.closed || len(b) == 0 {
		return
	}
	if len(c.out) == 0 {
		c.owner.dirty = append(c.owner.dirty, c)
	}
	c.out = append(c.out, b...)
}

func (c *conn) latency() time.Duration {
	return time.Duration(between(c.rng, int64(c.cfg.LatencyMin), int64(c.cfg.LatencyMax)))
}

// arrival is when something sent now from this end reaches the other.
func (c *conn) arrival() time.Duration {
	at := max(c.s.now+c.latency(), c.last)
	c.last = at
	return at
}

func (c *conn) flush() {
	if len(c.out) == 0 || c.closed {
		c.out = c.out[:0]
		return
	}
	data := c.out
	c.out = nil
	c.s.stats.ConnBytes += int64(len(data))
	if c.peer.paused {
		c.hold(data)
		return
	}
	c.send(data)
}

// send schedules data's arrival at the other end, in pieces if the
// connection fragments.
func (c *conn) send(data []byte) {
	at := c.arrival()
	for len(data) > 0 {
		n := len(data)
		if c.cfg.Fragment && n > 1 {
			n = 1 + c.rng.IntN(n)
		}
		c.peer.receive(at, runtime.ConnData{Conn: c.peer, Data: data[:n:n]})
		data = data[n:]
	}
}

// receive schedules ev on this end's owner at at, unless this end is closed
// by then.
func (c *conn) receive(at time.Duration, ev runtime.Event) {
	c.s.schedule(&event{
		at: at, node: c.ownerNode(), loop: c.ownerName(), kind: ev.Kind(), digest: digestOf(ev),
		fn: func() {
			if c.closed || c.owner == nil || !c.owner.alive() {
				return
			}
			if _, fin := ev.(runtime.ConnClosed); fin {
				c.markClosed()
			}
			c.owner.handle(ev)
		},
	})
}

func (c *conn) ownerNode() runtime.NodeID {
	if c.inc != nil {
		return c.inc.p.id
	}
	return 0
}

func (c *conn) ownerName() string {
	if c.owner == nil {
		return "accept"
	}
	return c.owner.name
}

func (c *conn) markClosed() {
	c.closed = true
	c.held, c.owed = nil, 0 // what its paused client never read is lost
	if c.inc != nil {
		delete(c.inc.conns, c.id)
	}
}

// Close flushes, closes this end, and sends end-of-stream to the other.
func (c *conn) Close() {
	if c.closed {
		return
	}
	c.flush()
	if c.closed {
		return // cut for its output as it flushed
	}
	c.markClosed()
	c.owner.deliver(c.s.now, runtime.ConnClosed{Conn: c}, nil)
	c.peer.receive(c.arrival(), runtime.ConnClosed{Conn: c.peer, Err: ErrConnEOF})
}

// cut closes both ends at once with err; data in flight is lost.
func (c *conn) cut(err error) {
	c.s.stats.ConnCuts++
	for _, e := range []*conn{c, c.peer} {
		if e.closed {
			continue
		}
		e.markClosed()
		if e.owner != nil {
			e.owner.deliver(c.s.now, runtime.ConnClosed{Conn: e, Err: err}, nil)
		}
	}
}

// Dial opens a client connection from actor loop from to listener of
// process to. The returned Conn belongs to from: it gets ConnOpened once
// the connection is established, or ConnClosed{Err: ErrConnRefused}.
// Bytes written before ConnOpened are sent after the handshake.
func (s *Sim) Dial(from runtime.Loop, to runtime.NodeID, listener string) runtime.Conn {
	owner := from.(*loop)
	if owner.inc != nil {
		panic("sim: Dial is for client actors")
	}
	s.nextConnID++
	id := s.nextConnID
	rng := s.rng(fmt.Sprintf("conn/%d", id))
	cli := &conn{s: s, id: id, owner: owner, cfg: s.connCfg, rng: rng,
		info: runtime.ConnInfo{Listener: listener, RemoteAddr: fmt.Sprintf("node-%d:%s", to, listener)}}
	srv := &conn{s: s, id: id, peer: cli, cfg: s.connCfg, rng: rng,
		info: runtime.ConnInfo{Listener: listener, RemoteAddr: fmt.Sprintf("10.0.%d.%d:%d", id>>8&255, id&255, 40000+id%20000)}}
	cli.peer = srv
	at := cli.arrival()
	s.schedule(&event{at: at, node: to, loop: "accept", kind: "accept", digest: id, fn: func() { s.accept(to, cli, srv) }})
	return cli
}

// accept runs when a connection attempt reaches process to.
func (s *Sim) accept(to runtime.NodeID, cli, srv *conn) {
	p := s.procs[to]
	if cli.closed {
		return
	}
	if p == nil || p.inc == nil {
		srv.closed = true
		cli.receive(srv.arrival(), runtime.ConnClosed{Conn: cli, Err: ErrConnRefused})
		return
	}
	l, ok := p.inc.proc.Accept(srv.info).(*loop)
	if !ok || l.inc != p.inc {
		panic(fmt.Sprintf("sim: node %d accepted a connection on a loop not its own", to))
	}
	srv.owner, srv.inc = l, p.inc
	p.inc.conns[srv.id] = srv
	l.handle(runtime.ConnOpened{Conn: srv})
	cli.receive(srv.arrival(), runtime.ConnOpened{Conn: cli})
}

// Cut breaks a client connection from the client's side of the world: both
// ends see ConnClosed{Err: ErrConnReset} now.
func (s *Sim) Cut(c runtime.Conn) { c.(*conn).cut(ErrConnReset) }
