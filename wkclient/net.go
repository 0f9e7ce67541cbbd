package wkclient

import (
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/jindou-im/jindou/node/proto"
)

// Options describe a login of a NetClient.
type Options struct {
	UID, Token, DeviceID string
	DeviceFlag           proto.DeviceFlag
	// Version is the protocol version announced (default 5).
	Version uint8
	// Timeout bounds dialling and the CONNACK (default 5 s).
	Timeout time.Duration
}

// ConnackError is a refused CONNECT.
type ConnackError struct{ Reason proto.ReasonCode }

func (e *ConnackError) Error() string { return fmt.Sprintf("connect refused: reason %d", e.Reason) }

// ErrClosed is Next's error once the server closed the connection.
var ErrClosed = io.EOF

// NetClient is one logged-in connection over TCP or WebSocket: a Session
// driven by blocking reads and writes. It is named apart from Client, the
// simulator's actor, because both live in this package.
//
// A NetClient may be read (Next) by one goroutine and written by another.
type NetClient struct {
	tr      transport
	Connack *proto.Connack

	mu   sync.Mutex // guards sess
	sess *Session

	// wmu serializes writes, and is taken before mu so that frames reach
	// the wire in the order the session made them. The reader never takes
	// it: a write blocked on a full socket cannot stall reading.
	wmu sync.Mutex
	buf []byte // write scratch, guarded by wmu
}

// transport is a byte stream: TCP or WebSocket.
type transport interface {
	write(b []byte) error
	read() ([]byte, error)
	setReadDeadline(t time.Time) error
	close() error
	raw() net.Conn
}

// DialTCP connects to addr (host:port) and logs in.
func DialTCP(addr string, o Options) (*NetClient, error) {
	o.defaults()
	c, err := net.DialTimeout("tcp", addr, o.Timeout)
	if err != nil {
		return nil, err
	}
	return login(&tcpTransport{c: c, buf: make([]byte, 4096)}, o)
}

func (o *Options) defaults() {
	if o.Version == 0 {
		o.Version = 5
	}
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Second
	}
	if o.DeviceID == "" {
		o.DeviceID = o.UID + "-dev"
	}
}

// login sends the CONNECT and waits for its CONNACK; on any failure it
// closes tr.
func login(tr transport, o Options) (*NetClient, error) {
	c := &NetClient{tr: tr, sess: NewSession(0)}
	if err := c.handshake(o); err != nil {
		tr.close()
		return nil, err
	}
	return c, nil
}

func (c *NetClient) handshake(o Options) error {
	l := Login{UID: o.UID, DeviceID: o.DeviceID, Token: o.Token, Flag: o.DeviceFlag, Version: o.Version,
		Timestamp: time.Now().UnixMilli()}
	if err := c.sess.Connect(l, rand.Reader); err != nil {
		return err
	}
	if err := c.flush(); err != nil {
		return err
	}
	ev, err := c.next(time.Now().Add(o.Timeout))
	if err != nil {
		return fmt.Errorf("waiting for CONNACK: %w", err)
	}
	ack, ok := ev.(ConnackEvent)
	if !ok {
		return fmt.Errorf("expected CONNACK, got %T", Packet(ev))
	}
	c.Connack = ack.Connack
	if ack.Connack.ReasonCode != proto.ReasonSuccess {
		return &ConnackError{Reason: ack.Connack.ReasonCode}
	}
	return ack.Err
}

// Version is the negotiated protocol version.
func (c *NetClient) Version() uint8 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess.Version()
}

// Conn is the underlying connection (for tests that write raw bytes).
func (c *NetClient) Conn() net.Conn { return c.tr.raw() }

// Close closes the connection.
func (c *NetClient) Close() error { return c.tr.close() }

// do runs op on the session and writes what it queued.
func (c *NetClient) do(op func(s *Session) error) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.mu.Lock()
	err := op(c.sess)
	c.buf = c.sess.AppendOutput(c.buf[:0])
	c.mu.Unlock()
	if err != nil || len(c.buf) == 0 {
		return err
	}
	return c.tr.write(c.buf)
}

// flush writes what the session queued already.
func (c *NetClient) flush() error { return c.do(func(*Session) error { return nil }) }

// WriteRaw writes bytes as they are.
func (c *NetClient) WriteRaw(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.tr.write(b)
}

// Send seals plaintext into a SEND to the channel and writes it; it
// returns the client_seq that its SENDACK will carry. An empty
// clientMsgNo gets a unique one.
func (c *NetClient) Send(channelID string, typ proto.ChannelType, clientMsgNo string, plaintext []byte) (uint32, error) {
	var seq uint32
	err := c.do(func(s *Session) error {
		if clientMsgNo == "" {
			clientMsgNo = strconv.FormatInt(time.Now().UnixNano(), 36) + "-" + strconv.FormatUint(uint64(s.LastSeq()+1), 10)
		}
		p := &proto.Send{Setting: proto.SettingReceipt, ClientMsgNo: clientMsgNo, ChannelID: channelID, ChannelType: typ}
		sent, err := s.Send(p, plaintext, nil)
		if sent != nil {
			seq = sent.ClientSeq
		}
		return err
	})
	return seq, err
}

// Ping writes a PING.
func (c *NetClient) Ping() error { return c.do(func(s *Session) error { return s.Ping() }) }

// Ack writes the RECVACK of r (DUP cleared, as the SDK does).
func (c *NetClient) Ack(r *proto.Recv) error {
	return c.do(func(s *Session) error { return s.Ack(r) })
}

// Open verifies a RECV's msg_key and decrypts its payload.
func (c *NetClient) Open(r *proto.Recv) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess.Open(r)
}

// Next returns the next packet, waiting until deadline (zero: forever).
// Byte fields of the packet are copied, so they stay valid. A RECV is
// returned whether or not it opens: Open says.
func (c *NetClient) Next(deadline time.Time) (proto.Packet, error) {
	ev, err := c.next(deadline)
	if err != nil {
		return nil, err
	}
	return detach(Packet(ev)), nil
}

// next reads until the session yields an event. The session is locked
// only around Feed and Next, never across the blocking read.
func (c *NetClient) next(deadline time.Time) (Event, error) {
	for {
		c.mu.Lock()
		ev, err := c.sess.Next()
		c.mu.Unlock()
		if ev != nil || err != nil {
			return ev, err
		}
		if err := c.tr.setReadDeadline(deadline); err != nil {
			return nil, err
		}
		b, err := c.tr.read()
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		c.sess.Feed(b)
		c.mu.Unlock()
	}
}

// detach copies the byte fields that alias the session's input.
func detach(p proto.Packet) proto.Packet {
	switch v := p.(type) {
	case *proto.Recv:
		v.Payload = append([]byte(nil), v.Payload...)
	case *proto.Send:
		v.Payload = append([]byte(nil), v.Payload...)
	case *proto.Event:
		v.Data = append([]byte(nil), v.Data...)
	}
	return p
}

type tcpTransport struct {
	c   net.Conn
	buf []byte
}

func (t *tcpTransport) write(b []byte) error { _, err := t.c.Write(b); return err }
func (t *tcpTransport) read() ([]byte, error) {
	n, err := t.c.Read(t.buf)
	if n > 0 {
		return t.buf[:n], nil
	}
	return nil, err
}
func (t *tcpTransport) setReadDeadline(d time.Time) error { return t.c.SetReadDeadline(d) }
func (t *tcpTransport) close() error                      { return t.c.Close() }
func (t *tcpTransport) raw() net.Conn                     { return t.c }
