package wkclient

import (
	"cmp"
	"crypto/ecdh"
	"fmt"
	"io"
	"slices"

	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/runtime"
)

// Client is one simulated WKProto connection of a user.
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

	conn    runtime.Conn
	dec     *proto.Decoder
	priv    *ecdh.PrivateKey
	sess    *proto.Session
	version uint8
	// Ready: CONNACK with success arrived on the current connection.
	Ready bool
	// Open: the current connection is established (it may not be Ready).
	Open bool

	nextSeq uint32
	// inflight are the SENDs on the current connection awaiting SENDACK.
	inflight map[uint32]*Sent
	// Pongs counts PONGs received.
	Pongs int
	// Errors records what went wrong on the client side (bad frames, msg
	// keys that did not verify): a test fails on any.
	Errors []string
}

// Sent is a SEND in flight.
type Sent struct {
	ClientSeq   uint32
	ClientMsgNo string
	ChannelID   string
	ChannelType proto.ChannelType
	Payload     []byte
	Tag         any
}

// New makes a client; Attach gives it its actor loop and a way to dial.
func New(uid, device string, flag proto.DeviceFlag, version uint8, rnd io.Reader) *Client {
	return &Client{UID: uid, DeviceID: device, Flag: flag, Version: version, AutoAck: true, rnd: rnd}
}

// Attach binds the client to its actor loop and its dialer.
func (c *Client) Attach(loop runtime.Loop, dial func() runtime.Conn) {
	c.loop, c.dial = loop, dial
}

// Loop is the client's actor loop.
func (c *Client) Loop() runtime.Loop { return c.loop }

// Connect dials and sends CONNECT once the connection opens.
func (c *Client) Connect() {
	c.conn = c.dial()
	c.Ready, c.Open = false, false
	c.dec = proto.NewDecoder(0)
	c.inflight = map[uint32]*Sent{}
	c.version = 0
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
			c.dec.Feed(e.Data)
			c.readFrames()
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

func (c *Client) sendConnect() {
	priv, err := proto.NewPrivateKey(c.rnd)
	if err != nil {
		panic(err)
	}
	c.priv = priv
	// CONNACK is laid out for the negotiated version, which is at most ours.
	c.dec.SetVersion(c.Version)
	p := &proto.Connect{
		Version: c.Version, DeviceFlag: c.Flag, DeviceID: c.DeviceID, UID: c.UID, Token: c.Token,
		ClientTimestamp: 1, ClientKey: proto.EncodePublicKey(priv.PublicKey()),
	}
	if c.EditConnect != nil {
		c.EditConnect(p)
	}
	c.write(p, proto.MinVersion)
}

func (c *Client) write(p proto.Packet, v uint8) {
	frame, err := proto.AppendFrame(nil, p, v)
	if err != nil {
		panic(err)
	}
	c.conn.Write(frame)
}

func (c *Client) readFrames() {
	for {
		p, err := c.dec.Next()
		if err != nil {
			c.errorf("decode: %v", err)
			c.conn.Close()
			return
		}
		if p == nil {
			return
		}
		c.onPacket(p)
	}
}

func (c *Client) onPacket(p proto.Packet) {
	switch p := p.(type) {
	case *proto.Connack:
		c.onConnack(p)
	case *proto.Sendack:
		sent := c.inflight[p.ClientSeq]
		if sent == nil {
			c.errorf("SENDACK for unknown client_seq %d", p.ClientSeq)
			return
		}
		delete(c.inflight, p.ClientSeq)
		if c.OnSendack != nil {
			c.OnSendack(sent, p)
		}
	case *proto.Recv:
		c.onRecv(p)
	case *proto.Disconnect:
		if c.OnDisconnect != nil {
			c.OnDisconnect(p)
		}
	case *proto.Pong:
		c.Pongs++
	default:
		c.errorf("unexpected %s", p.Type())
	}
}

func (c *Client) onConnack(p *proto.Connack) {
	if p.ReasonCode == proto.ReasonSuccess {
		v := c.Version
		if p.HasServerVersion {
			v = p.ServerVersion
		}
		sess, err := proto.NewClientSession(c.priv, p.ServerKey, p.Salt)
		if err != nil {
			c.errorf("session: %v", err)
			return
		}
		c.sess, c.version, c.Ready = sess, v, true
		c.dec.SetVersion(v)
	}
	if c.OnConnack != nil {
		c.OnConnack(p)
	}
}

func (c *Client) onRecv(r *proto.Recv) {
	plain, err := c.sess.OpenRecv(nil, r)
	if err != nil {
		c.errorf("RECV %s seq %d: %v", r.ChannelID, r.MessageSeq, err)
		return
	}
	if c.AutoAck {
		c.write(&proto.Recvack{Flags: r.Flags, MessageID: r.MessageID, MessageSeq: r.MessageSeq}, c.version)
	}
	if c.OnRecv != nil {
		c.OnRecv(r, plain)
	}
}

// Send sends an encrypted message; OnSendack reports its outcome.
func (c *Client) Send(channelID string, typ proto.ChannelType, clientMsgNo string, payload []byte, flags proto.Flags, tag any) *Sent {
	if !c.Ready {
		panic("wkclient: Send before CONNACK")
	}
	c.nextSeq++
	p := &proto.Send{Flags: flags, ClientSeq: c.nextSeq, ClientMsgNo: clientMsgNo, ChannelID: channelID, ChannelType: typ}
	c.sess.SealSend(p, payload)
	s := &Sent{ClientSeq: c.nextSeq, ClientMsgNo: clientMsgNo, ChannelID: channelID, ChannelType: typ, Payload: payload, Tag: tag}
	c.inflight[c.nextSeq] = s
	c.write(p, c.version)
	return s
}

// Inflight is how many SENDs await their SENDACK.
func (c *Client) Inflight() int { return len(c.inflight) }

// InflightSends lists them in send order.
func (c *Client) InflightSends() []*Sent {
	out := make([]*Sent, 0, len(c.inflight))
	for _, s := range c.inflight {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b *Sent) int { return cmp.Compare(a.ClientSeq, b.ClientSeq) })
	return out
}

// Ping sends PING.
func (c *Client) Ping() { c.write(&proto.Ping{}, c.version) }

// WriteRaw writes bytes as they are (for malformed-input tests).
func (c *Client) WriteRaw(b []byte) { c.conn.Write(b) }

// SendRaw writes a hand-made SEND frame and expects a SENDACK for clientSeq.
func (c *Client) SendRaw(clientSeq uint32, frame []byte) {
	c.inflight[clientSeq] = &Sent{ClientSeq: clientSeq}
	c.conn.Write(frame)
}
