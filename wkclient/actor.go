package wkclient

import (
	"fmt"
	"io"

	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/runtime"
)

// Client is one simulated WKProto connection of a user: a runtime.Handler
// that drives a Session over the runtime.Conn its dialer returns. Every
// callback runs on the actor's loop.
type Client struct {
	UID, DeviceID, Token string
	Flag                 proto.DeviceFlag
	// Version is the protocol version the client announces.
	Version uint8
	// AutoAck answers every RECV with RECVACK.
	AutoAck bool

	// Callbacks, all on the actor's loop; any may be nil.
	OnConnack    func(*proto.Connack)
	OnSendack    func(sent *Sent, ack *proto.Sendack)
	OnRecv       func(r *proto.Recv, plaintext []byte)
	OnDisconnect func(*proto.Disconnect)
	OnClosed     func(err error)
	OnTimer      func(tag any)
	// EditConnect, if set, may change the CONNECT before it is sent (tests
	// of refused connections).
	EditConnect func(*proto.Connect)

	loop runtime.Loop
	rnd  io.Reader
	dial func() runtime.Conn

	conn runtime.Conn
	sess *Session
	// Ready: CONNACK with success arrived on the current connection.
	Ready bool
	// Open: the current connection is established (it may not be Ready).
	Open bool

	// Pongs counts PONGs received.
	Pongs int
	// Errors records what went wrong on the client side (bad frames, msg
	// keys that did not verify): a test fails on any.
	Errors []string

	scratch []byte // output on its way to conn
}

// New makes a client; Attach gives it its actor loop and a way to dial.
// The client's key pairs are drawn from rnd, one per connection, when it
// opens.
func New(uid, device string, flag proto.DeviceFlag, version uint8, rnd io.Reader) *Client {
	return &Client{UID: uid, DeviceID: device, Flag: flag, Version: version, AutoAck: true, rnd: rnd}
}

// Attach binds the client to its actor loop and its dialer.
func (c *Client) Attach(loop runtime.Loop, dial func() runtime.Conn) {
	c.loop, c.dial = loop, dial
}

// Loop is the client's actor loop.
func (c *Client) Loop() runtime.Loop { return c.loop }

// Connect dials; the CONNECT goes out once the connection opens. The new
// connection's SENDs continue the client_seq numbering of the last one.
func (c *Client) Connect() {
	var last uint32
	if c.sess != nil {
		last = c.sess.LastSeq()
	}
	c.conn = c.dial()
	c.Ready, c.Open = false, false
	c.sess = NewSession(last)
}

// Close closes the current connection.
func (c *Client) Close() {
	if c.conn != nil {
		c.conn.Close()
	}
}

// Conn is the current connection (nil before Connect).
func (c *Client) Conn() runtime.Conn { return c.conn }

func (c *Client) errorf(format string, args ...any) {
	c.Errors = append(c.Errors, fmt.Sprintf("%s/%s: ", c.UID, c.DeviceID)+fmt.Sprintf(format, args...))
}

// Handle runs one event of the actor.
func (c *Client) Handle(ev runtime.Event) {
	switch e := ev.(type) {
	case runtime.ConnOpened:
		if e.Conn == c.conn {
			c.Open = true
			c.sendConnect()
		}
	case runtime.ConnData:
		if e.Conn == c.conn {
			c.sess.Feed(e.Data)
			c.readEvents()
		}
	case runtime.ConnClosed:
		if e.Conn == c.conn {
			c.Ready, c.Open = false, false
			if c.OnClosed != nil {
				c.OnClosed(e.Err)
			}
		}
	case runtime.TimerFired:
		if c.OnTimer != nil {
			c.OnTimer(e.Tag)
		}
	}
}

// sendConnect draws the key from the client's random stream now, when the
// connection opens: the simulator's runs depend on when the stream is
// read. ClientTimestamp is fixed (1) because the simulated client has no
// clock of its own.
func (c *Client) sendConnect() {
	l := Login{UID: c.UID, DeviceID: c.DeviceID, Token: c.Token, Flag: c.Flag, Version: c.Version,
		Timestamp: 1, Edit: c.EditConnect}
	if err := c.sess.Connect(l, c.rnd); err != nil {
		c.errorf("connect: %v", err)
		c.conn.Close()
		return
	}
	c.flush()
}

// flush writes what the session queued. The drivers flush after every
// operation, so frames reach the connection in the order they were made,
// and WriteRaw bytes fall between them where they were written.
func (c *Client) flush() {
	if c.sess.Pending() == 0 {
		return
	}
	c.scratch = c.sess.AppendOutput(c.scratch[:0])
	c.conn.Write(c.scratch)
}

func (c *Client) readEvents() {
	for {
		// Set per read: tests switch AutoAck between events.
		c.sess.AutoAck = c.AutoAck
		ev, err := c.sess.Next()
		if err != nil {
			c.errorf("decode: %v", err)
			c.conn.Close()
			return
		}
		if ev == nil {
			return
		}
		// A RECVACK goes out before OnRecv runs, so it precedes whatever
		// the callback sends.
		c.flush()
		c.onEvent(ev)
	}
}

func (c *Client) onEvent(ev Event) {
	switch e := ev.(type) {
	case ConnackEvent:
		c.onConnack(e)
	case SendackEvent:
		if e.Err != nil {
			c.errorf("%v", e.Err)
			return
		}
		if c.OnSendack != nil {
			c.OnSendack(e.Sent, e.Ack)
		}
	case RecvEvent:
		if e.Err != nil {
			c.errorf("RECV %s seq %d: %v", e.Recv.ChannelID, e.Recv.MessageSeq, e.Err)
			return
		}
		if c.OnRecv != nil {
			c.OnRecv(e.Recv, e.Plaintext)
		}
	case DisconnectEvent:
		if c.OnDisconnect != nil {
			c.OnDisconnect(e.Disconnect)
		}
	case PongEvent:
		c.Pongs++
	case OtherEvent:
		c.errorf("unexpected %s", e.Packet.Type())
	}
}

func (c *Client) onConnack(e ConnackEvent) {
	if e.Err != nil {
		c.errorf("session: %v", e.Err)
		return
	}
	c.Ready = c.sess.Ready()
	if c.OnConnack != nil {
		c.OnConnack(e.Connack)
	}
}

// Send sends an encrypted message; OnSendack reports its outcome.
func (c *Client) Send(channelID string, typ proto.ChannelType, clientMsgNo string, payload []byte, flags proto.Flags, tag any) *Sent {
	if !c.Ready {
		panic("wkclient: Send before CONNACK")
	}
	p := &proto.Send{Flags: flags, ClientMsgNo: clientMsgNo, ChannelID: channelID, ChannelType: typ}
	s, err := c.sess.Send(p, payload, tag)
	if err != nil {
		panic(err)
	}
	c.flush()
	return s
}

// SendPacket sends p (its setting, stream_no, topic and the rest as set;
// ClientSeq and MsgKey are filled in) with payload, encrypted.
func (c *Client) SendPacket(p *proto.Send, payload []byte, tag any) *Sent {
	if !c.Ready {
		panic("wkclient: Send before CONNACK")
	}
	s, err := c.sess.Send(p, payload, tag)
	if err != nil {
		panic(err)
	}
	c.flush()
	return s
}

// Inflight is how many SENDs await their SENDACK.
func (c *Client) Inflight() int {
	if c.sess == nil {
		return 0
	}
	return c.sess.Inflight()
}

// InflightSends lists them in send order.
func (c *Client) InflightSends() []*Sent {
	if c.sess == nil {
		return []*Sent{}
	}
	return c.sess.InflightSends()
}

// Ack sends the RECVACK of r (for a client with AutoAck off: a slow
// reader acknowledging late).
func (c *Client) Ack(r *proto.Recv) {
	if err := c.sess.Ack(r); err != nil {
		panic(err)
	}
	c.flush()
}

// Ping sends PING.
func (c *Client) Ping() {
	if err := c.sess.Ping(); err != nil {
		panic(err)
	}
	c.flush()
}

// WriteRaw writes bytes as they are (for malformed-input tests).
func (c *Client) WriteRaw(b []byte) { c.conn.Write(b) }

// SendRaw writes a hand-made SEND frame and expects a SENDACK for clientSeq.
func (c *Client) SendRaw(clientSeq uint32, frame []byte) {
	c.sess.Track(clientSeq)
	c.conn.Write(frame)
}
