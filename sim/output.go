package sim

import (
	"github.com/jindou-im/jindou/runtime"
)

// The reactor's output budget, simulated. A client actor may stop reading
// its socket (StopReading): what the node writes to it from then on is
// held at the server end; beyond the socket buffer (what the kernel would take)
// it is owed, and the shared runtime.OutputBudget decides, as the reactor
// does with its backlogs, when the connection must be cut: the server end
// gets ConnClosed with runtime.ErrSlowReader or runtime.ErrOutputBudget,
// the client ErrConnReset. ResumeReading delivers what was held, in order.

// DefaultSocketBuffer is what a client's socket takes while its reader
// does not read (SetSocketBuffer changes it): the server end owes only
// what is beyond it.
const DefaultSocketBuffer = 16 << 10

// SetSocketBuffer sets what a paused client's socket takes before its
// server end owes (negative: DefaultSocketBuffer).
func (s *Sim) SetSocketBuffer(n int) { s.sockBuf = n + 1 }

func (s *Sim) socketBuffer() int {
	if s.sockBuf <= 0 {
		return DefaultSocketBuffer
	}
	return s.sockBuf - 1
}

// SetOutputBudget sets the caps of the server ends' debts (zero fields:
// the reactor's defaults), for every process.
func (s *Sim) SetOutputBudget(b runtime.OutputBudget) { s.output = b.WithDefaults() }

// OutputBudget is the budget in force.
func (s *Sim) OutputBudget() runtime.OutputBudget { return s.output.WithDefaults() }

// StopReading makes a client connection's reader stop reading.
func (s *Sim) StopReading(c runtime.Conn) { c.(*conn).paused = true }

// ResumeReading makes a client connection's reader read again: what its
// server end held arrives, in order, after it.
func (s *Sim) ResumeReading(c runtime.Conn) {
	cli := c.(*conn)
	cli.paused = false
	srv := cli.peer
	if srv == nil || srv.closed || len(srv.held) == 0 {
		return
	}
	data := srv.held
	srv.held, srv.owed = nil, 0
	srv.send(data)
}

// hold keeps data a paused client does not read and cuts the connection
// if the budget says so.
func (c *conn) hold(data []byte) {
	c.held = append(c.held, data...)
	c.owed = max(0, len(c.held)-c.s.socketBuffer())
	if c.owed == 0 {
		return
	}
	if err := c.s.OutputBudget().Verdict(c.owed, c.owedTotal()); err != nil {
		c.cutForOutput(err)
	}
}

// owedTotal is what every server end of c's process owes.
func (c *conn) owedTotal() int64 {
	if c.inc == nil {
		return int64(c.owed)
	}
	var total int64
	for _, e := range c.inc.conns {
		total += int64(e.owed)
	}
	return total
}

// cutForOutput closes c, a server end, for its debt: its owner is told
// err, the client a reset.
func (c *conn) cutForOutput(err error) {
	if err == runtime.ErrSlowReader {
		c.s.stats.OutputCutsConn++
	} else {
		c.s.stats.OutputCutsTotal++
	}
	c.markClosed()
	c.owner.deliver(c.s.now, runtime.ConnClosed{Conn: c, Err: err}, nil)
	c.peer.receive(c.arrival(), runtime.ConnClosed{Conn: c.peer, Err: ErrConnReset})
}
