// Package wkclient is a small WKProto client over TCP or WebSocket, built on
// node/proto: the handshake (X25519, AES session), encrypted SENDs, RECVs
// opened and verified, RECVACKs, PING. The end-to-end tests and
// `jindou bench` use it against a running jindou process.
//
// A Client may be read by one goroutine and written by another; Session
// use is serialized inside.
package wkclient

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jindou-im/jindou/node/proto"
)

// Options describe a login.
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

// Client is one logged-in connection.
type Client struct {
	tr      transport
	dec     *proto.Decoder
	version uint8
	Connack *proto.Connack

	mu   sync.Mutex // guards sess and seq
	sess *proto.Session
	seq  uint32

	wmu sync.Mutex // serializes writes
	buf []byte     // write scratch, guarded by wmu
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
func DialTCP(addr string, o Options) (*Client, error) {
	o.defaults()
	c, err := net.DialTimeout("tcp", addr, o.Timeout)
	if err != nil {
		return nil, err
	}
	return login(&tcpTransport{c: c, buf: make([]byte, 4096)}, o)
}

// DialWS connects to url (ws://host:port) and logs in.
func DialWS(url string, o Options) (*Client, error) {
	o.defaults()
	d := websocket.Dialer{HandshakeTimeout: o.Timeout, ReadBufferSize: 1024, WriteBufferSize: 1024}
	ws, _, err := d.Dial(url, nil)
	if err != nil {
		return nil, err
	}
	return login(&wsTransport{ws: ws}, o)
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

func login(tr transport, o Options) (*Client, error) {
	priv, err := proto.NewPrivateKey(rand.Reader)
	if err != nil {
		tr.close()
		return nil, err
	}
	v, ok := proto.NegotiateVersion(o.Version)
	if !ok {
		tr.close()
		return nil, fmt.Errorf("protocol version %d is not supported", o.Version)
	}
	c := &Client{tr: tr, dec: proto.NewDecoder(0), version: v}
	// The server answers at min(ours, its latest): decode CONNACK so.
	c.dec.SetVersion(v)
	connect := &proto.Connect{Version: o.Version, DeviceFlag: o.DeviceFlag, DeviceID: o.DeviceID, UID: o.UID,
		Token: o.Token, ClientTimestamp: time.Now().UnixMilli(), ClientKey: proto.EncodePublicKey(priv.PublicKey())}
	if err := c.write(connect); err != nil {
		tr.close()
		return nil, err
	}
	p, err := c.Next(time.Now().Add(o.Timeout))
	if err != nil {
		tr.close()
		return nil, fmt.Errorf("waiting for CONNACK: %w", err)
	}
	ack, ok := p.(*proto.Connack)
	if !ok {
		tr.close()
		return nil, fmt.Errorf("expected CONNACK, got %T", p)
	}
	c.Connack = ack
	if ack.ReasonCode != proto.ReasonSuccess {
		tr.close()
		return nil, &ConnackError{Reason: ack.ReasonCode}
	}
	if ack.HasServerVersion && ack.ServerVersion != c.version {
		c.version = ack.ServerVersion
		c.dec.SetVersion(c.version)
	}
	if c.sess, err = proto.NewClientSession(priv, ack.ServerKey, ack.Salt); err != nil {
		tr.close()
		return nil, err
	}
	return c, nil
}

// Version is the negotiated protocol version.
func (c *Client) Version() uint8 { return c.version }

// Conn is the underlying connection (for tests that write raw bytes).
func (c *Client) Conn() net.Conn { return c.tr.raw() }

// Close closes the connection.
func (c *Client) Close() error { return c.tr.close() }

func (c *Client) write(p proto.Packet) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	b, err := proto.AppendFrame(c.buf[:0], p, c.version)
	if err != nil {
		return err
	}
	c.buf = b
	return c.tr.write(b)
}

// WriteRaw writes bytes as they are.
func (c *Client) WriteRaw(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.tr.write(b)
}

// Send seals plaintext into a SEND to the channel and writes it; it
// returns the client_seq that its SENDACK will carry. An empty
// clientMsgNo gets a unique one.
func (c *Client) Send(channelID string, typ proto.ChannelType, clientMsgNo string, plaintext []byte) (uint32, error) {
	c.mu.Lock()
	c.seq++
	seq := c.seq
	if clientMsgNo == "" {
		clientMsgNo = strconv.FormatInt(time.Now().UnixNano(), 36) + "-" + strconv.FormatUint(uint64(seq), 10)
	}
	s := &proto.Send{Setting: proto.SettingReceipt, ClientSeq: seq, ClientMsgNo: clientMsgNo, ChannelID: channelID, ChannelType: typ}
	c.sess.SealSend(s, plaintext)
	c.mu.Unlock()
	return seq, c.write(s)
}

// Ping writes a PING.
func (c *Client) Ping() error { return c.write(&proto.Ping{}) }

// Ack writes the RECVACK of r.
func (c *Client) Ack(r *proto.Recv) error {
	return c.write(&proto.Recvack{Flags: r.Flags &^ proto.FlagDup, MessageID: r.MessageID, MessageSeq: r.MessageSeq})
}

// Open verifies a RECV's msg_key and decrypts its payload.
func (c *Client) Open(r *proto.Recv) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess.OpenRecv(nil, r)
}

// Next returns the next packet, waiting until deadline (zero: forever).
// Byte fields of the packet are copied, so they stay valid.
func (c *Client) Next(deadline time.Time) (proto.Packet, error) {
	for {
		p, err := c.dec.Next()
		if err != nil {
			return nil, err
		}
		if p != nil {
			return detach(p), nil
		}
		if err := c.tr.setReadDeadline(deadline); err != nil {
			return nil, err
		}
		b, err := c.tr.read()
		if err != nil {
			return nil, err
		}
		c.dec.Feed(b)
	}
}

// detach copies the byte fields that alias the decoder's buffer.
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

// ErrClosed is Next's error once the server closed the connection.
var ErrClosed = io.EOF

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

type wsTransport struct{ ws *websocket.Conn }

func (t *wsTransport) write(b []byte) error { return t.ws.WriteMessage(websocket.BinaryMessage, b) }
func (t *wsTransport) read() ([]byte, error) {
	_, b, err := t.ws.ReadMessage()
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return nil, io.EOF
	}
	return b, err
}
func (t *wsTransport) setReadDeadline(d time.Time) error { return t.ws.SetReadDeadline(d) }
func (t *wsTransport) close() error                      { return t.ws.Close() }
func (t *wsTransport) raw() net.Conn                     { return t.ws.NetConn() }
