package scenarios

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/wkclient"
)

// realConn is a client of a real node: a wkclient.Session over a TCP
// connection, read by a goroutine of its own that queues what it reads as
// the backend's events (realBackend.post), so that they print on the
// test's goroutine in the order they arrived.
type realConn struct {
	b    *realBackend
	spec clientSpec
	ev   clientEvents

	mu sync.Mutex // guards the fields below, the reader and the writers
	// sess and nc are the current connection's; lastSeq numbers the next
	// connection's SENDs on from the last one's, as the simulated client.
	sess    *wkclient.Session
	nc      net.Conn
	lastSeq uint32
	isReady bool
	// closing: the client closed nc itself.
	closing bool
}

func (b *realBackend) newClient(s clientSpec, ev clientEvents) conn {
	c := &realConn{b: b, spec: s, ev: ev}
	b.conns = append(b.conns, c)
	return c
}

// connect dials the node's TCP listener as it is now (a restarted single
// node listens on a new port) and writes the CONNECT.
func (c *realConn) connect(token string, autoAck bool) {
	c.close()
	p, err := c.b.proc(c.spec.node)
	var nc net.Conn
	if err == nil {
		nc, err = net.DialTimeout("tcp", p.tcp, 5*time.Second)
	}
	if err != nil {
		c.b.post(func() { c.ev.closed(fmt.Errorf("dial: %w", err)) })
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sess != nil {
		c.lastSeq = c.sess.LastSeq()
	}
	sess := wkclient.NewSession(c.lastSeq)
	sess.AutoAck = autoAck
	c.sess, c.nc, c.isReady, c.closing = sess, nc, false, false
	l := wkclient.Login{UID: c.spec.uid, DeviceID: c.spec.device, Token: token, Flag: c.spec.flag, Version: c.spec.version,
		Timestamp: time.Now().UnixMilli()}
	if err := sess.Connect(l, rand.Reader); err != nil {
		nc.Close()
		c.b.post(func() { c.ev.closed(err) })
		return
	}
	c.flushLocked()
	go c.read(sess, nc)
}

// flushLocked writes what the session queued; a write error shows as the
// reader's.
func (c *realConn) flushLocked() {
	if c.sess.Pending() > 0 {
		_, _ = c.nc.Write(c.sess.AppendOutput(nil))
	}
}

// read feeds the session until the connection closes.
func (c *realConn) read(sess *wkclient.Session, nc net.Conn) {
	buf := make([]byte, 64<<10)
	for {
		n, err := nc.Read(buf)
		if n > 0 {
			c.mu.Lock()
			sess.Feed(buf[:n])
			err2 := c.drainLocked(sess)
			c.mu.Unlock()
			if err2 != nil {
				nc.Close()
				err = err2
			}
		}
		if err != nil {
			c.mu.Lock()
			mine := c.nc == nc
			if mine {
				c.isReady = false
			}
			closing := c.closing
			c.mu.Unlock()
			if mine {
				if closing || errors.Is(err, net.ErrClosed) {
					err = nil
				}
				c.b.post(func() { c.ev.closed(err) })
			}
			return
		}
	}
}

// drainLocked turns the session's events into the backend's.
func (c *realConn) drainLocked(sess *wkclient.Session) error {
	for {
		ev, err := sess.Next()
		if err != nil || ev == nil {
			return err
		}
		c.flushLocked() // the RECVACK, when AutoAck queued one
		switch e := ev.(type) {
		case wkclient.ConnackEvent:
			c.isReady = e.Err == nil && sess.Ready()
			ack := *e.Connack
			c.b.post(func() { c.ev.connack(&ack) })
		case wkclient.SendackEvent:
			if e.Sent != nil {
				no, ack := e.Sent.ClientMsgNo, *e.Ack
				c.b.post(func() { c.ev.sendack(no, &ack) })
			}
		case wkclient.RecvEvent:
			r := *e.Recv
			r.Payload = append([]byte(nil), r.Payload...)
			plain := append([]byte(nil), e.Plaintext...)
			if e.Err != nil {
				plain = []byte("does not open: " + e.Err.Error())
			}
			c.b.post(func() { c.ev.recv(&r, plain) })
		case wkclient.DisconnectEvent:
			d := *e.Disconnect
			c.b.post(func() { c.ev.disconnect(&d) })
		}
	}
}

func (c *realConn) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.nc != nil && !c.closing {
		c.closing = true
		c.nc.Close()
	}
}

func (c *realConn) writeRaw(b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.nc != nil {
		_, _ = c.nc.Write(b)
	}
}

func (c *realConn) send(to string, typ proto.ChannelType, msgNo string, payload []byte, flags proto.Flags) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := &proto.Send{Flags: flags, ClientMsgNo: msgNo, ChannelID: to, ChannelType: typ}
	if _, err := c.sess.Send(p, payload, nil); err != nil {
		c.b.post(func() { c.ev.closed(fmt.Errorf("send: %w", err)) })
		return
	}
	c.flushLocked()
}

func (c *realConn) inflight() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sess == nil {
		return 0
	}
	return c.sess.Inflight()
}

func (c *realConn) ready() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.isReady
}
