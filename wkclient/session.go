package wkclient

import (
	"cmp"
	"crypto/ecdh"
	"fmt"
	"io"
	"slices"

	"github.com/jindou-im/jindou/node/proto"
)

// Login is what a CONNECT says about the client.
type Login struct {
	UID, DeviceID, Token string
	Flag                 proto.DeviceFlag
	// Version is the protocol version announced.
	Version uint8
	// Timestamp is the CONNECT's client_timestamp (unix milliseconds); the
	// caller passes it in because the session reads no clock.
	Timestamp int64
	// Edit, if set, may change the CONNECT before it is queued (tests of
	// refused connections).
	Edit func(*proto.Connect)
}

// Sent is a SEND in flight: what was sent, and the caller's tag.
type Sent struct {
	ClientSeq   uint32
	ClientMsgNo string
	ChannelID   string
	ChannelType proto.ChannelType
	Payload     []byte // the plaintext
	Tag         any
}

// Session is the client side of one WKProto connection, without the
// connection: the driver feeds it the bytes it reads and writes out the
// bytes it queues. It is not safe for concurrent use.
//
// Life: Connect queues the CONNECT; the CONNACK (an event of Next) sets up
// the negotiated version and the AES session; from then on Send, Ping and
// Ack queue frames and Next yields what the server sends.
type Session struct {
	// AutoAck queues a RECVACK for every RECV that opens.
	AutoAck bool

	dec     *proto.Decoder
	priv    *ecdh.PrivateKey
	aes     *proto.Session
	asked   uint8 // the version negotiated from the announced one
	version uint8 // the version frames are written at
	ready   bool

	lastSeq  uint32
	inflight map[uint32]*Sent
	out      []byte
}

// NewSession makes the session of a new connection. lastSeq is the
// client_seq of the client's last SEND before it (0 for none): the next SEND
// gets lastSeq+1, so that a reconnecting client keeps numbering its SENDs.
func NewSession(lastSeq uint32) *Session {
	return &Session{dec: proto.NewDecoder(0), lastSeq: lastSeq, inflight: map[uint32]*Sent{}}
}

// Connect draws the X25519 key from rnd (the only read of rnd) and queues
// the CONNECT. An announced version below proto.MinVersion is an error, and
// nothing is queued.
func (s *Session) Connect(l Login, rnd io.Reader) error {
	priv, err := proto.NewPrivateKey(rnd)
	if err != nil {
		return err
	}
	v, ok := proto.NegotiateVersion(l.Version)
	if !ok {
		return fmt.Errorf("wkclient: protocol version %d is not supported", l.Version)
	}
	s.priv, s.asked = priv, v
	// The server answers at min(ours, its latest), at most v: CONNACK is
	// decoded so.
	s.dec.SetVersion(v)
	p := &proto.Connect{
		Version: l.Version, DeviceFlag: l.Flag, DeviceID: l.DeviceID, UID: l.UID, Token: l.Token,
		ClientTimestamp: l.Timestamp, ClientKey: proto.EncodePublicKey(priv.PublicKey()),
	}
	if l.Edit != nil {
		l.Edit(p)
	}
	// CONNECT's layout is the same at every version.
	return s.queue(p, proto.MinVersion)
}

// Ready reports a successful CONNACK: Send may be called.
func (s *Session) Ready() bool { return s.ready }

// Version is the version frames are written at: the negotiated one once
// CONNACK arrived, 0 before.
func (s *Session) Version() uint8 { return s.version }

// LastSeq is the client_seq of the last SEND (the lastSeq of NewSession if
// none).
func (s *Session) LastSeq() uint32 { return s.lastSeq }

// queue appends p's frame to the output.
func (s *Session) queue(p proto.Packet, v uint8) error {
	out, err := proto.AppendFrame(s.out, p, v)
	if err != nil {
		return err
	}
	s.out = out
	return nil
}

// Pending is how many output bytes await AppendOutput.
func (s *Session) Pending() int { return len(s.out) }

// AppendOutput appends every queued byte to dst and empties the output.
func (s *Session) AppendOutput(dst []byte) []byte {
	dst = append(dst, s.out...)
	s.out = s.out[:0]
	return dst
}

// Raw queues bytes as they are (for malformed-input tests), after what is
// queued already.
func (s *Session) Raw(b []byte) { s.out = append(s.out, b...) }

// Send seals plaintext into p, gives it the next client_seq, queues it and
// tracks it until its SENDACK. The caller sets p's other fields (channel,
// client_msg_no, flags, setting); ClientSeq, MsgKey and Payload are set
// here.
func (s *Session) Send(p *proto.Send, plaintext []byte, tag any) (*Sent, error) {
	if !s.ready {
		return nil, ErrNotReady
	}
	p.ClientSeq = s.lastSeq + 1
	s.aes.SealSend(p, plaintext)
	if err := s.queue(p, s.version); err != nil {
		return nil, err
	}
	s.lastSeq = p.ClientSeq
	sent := &Sent{ClientSeq: p.ClientSeq, ClientMsgNo: p.ClientMsgNo, ChannelID: p.ChannelID,
		ChannelType: p.ChannelType, Payload: plaintext, Tag: tag}
	s.inflight[p.ClientSeq] = sent
	return sent, nil
}

// Track expects a SENDACK for clientSeq, of a SEND the caller wrote itself
// (with Raw).
func (s *Session) Track(clientSeq uint32) *Sent {
	sent := &Sent{ClientSeq: clientSeq}
	s.inflight[clientSeq] = sent
	return sent
}

// Inflight is how many SENDs await their SENDACK.
func (s *Session) Inflight() int { return len(s.inflight) }

// InflightSends lists them in client_seq order.
func (s *Session) InflightSends() []*Sent {
	out := make([]*Sent, 0, len(s.inflight))
	for _, sent := range s.inflight {
		out = append(out, sent)
	}
	slices.SortFunc(out, func(a, b *Sent) int { return cmp.Compare(a.ClientSeq, b.ClientSeq) })
	return out
}

// Ping queues a PING.
func (s *Session) Ping() error { return s.queue(&proto.Ping{}, s.version) }

// Ack queues the RECVACK of r. Like the SDK it echoes r's flags but DUP: a
// RECVACK acknowledges the message, not one delivery of it.
func (s *Session) Ack(r *proto.Recv) error {
	return s.queue(&proto.Recvack{Flags: r.Flags &^ proto.FlagDup, MessageID: r.MessageID, MessageSeq: r.MessageSeq}, s.version)
}

// Open verifies r's msg_key and decrypts its payload into a new slice.
func (s *Session) Open(r *proto.Recv) ([]byte, error) {
	if s.aes == nil {
		return nil, ErrNotReady
	}
	return s.aes.OpenRecv(nil, r)
}

// Feed adds bytes read from the connection; it invalidates the byte fields
// of packets of earlier events.
func (s *Session) Feed(b []byte) { s.dec.Feed(b) }

// Next returns the next event, or nil, nil when more input is needed. An
// error means the stream is malformed: it is sticky, and the driver should
// close the connection. Problems of one packet (an unknown client_seq, a
// RECV that does not open) are not errors of Next but the Err of their
// event.
func (s *Session) Next() (Event, error) {
	p, err := s.dec.Next()
	if p == nil || err != nil {
		return nil, err
	}
	switch p := p.(type) {
	case *proto.Connack:
		return s.onConnack(p), nil
	case *proto.Sendack:
		return s.onSendack(p), nil
	case *proto.Recv:
		return s.onRecv(p), nil
	case *proto.Disconnect:
		return DisconnectEvent{Disconnect: p}, nil
	case *proto.Pong:
		return PongEvent{}, nil
	}
	return OtherEvent{Packet: p}, nil
}

func (s *Session) onConnack(p *proto.Connack) Event {
	if p.ReasonCode != proto.ReasonSuccess || s.priv == nil {
		return ConnackEvent{Connack: p}
	}
	v := s.asked
	if p.HasServerVersion {
		v = p.ServerVersion
	}
	if v < proto.MinVersion || v > s.asked {
		return ConnackEvent{Connack: p, Err: fmt.Errorf("server chose version %d, asked for at most %d", v, s.asked)}
	}
	aes, err := proto.NewClientSession(s.priv, p.ServerKey, p.Salt)
	if err != nil {
		return ConnackEvent{Connack: p, Err: err}
	}
	s.aes, s.version, s.ready = aes, v, true
	s.dec.SetVersion(v)
	return ConnackEvent{Connack: p}
}

func (s *Session) onSendack(p *proto.Sendack) Event {
	sent := s.inflight[p.ClientSeq]
	if sent == nil {
		return SendackEvent{Ack: p, Err: fmt.Errorf("%w %d", ErrUnknownClientSeq, p.ClientSeq)}
	}
	delete(s.inflight, p.ClientSeq)
	return SendackEvent{Ack: p, Sent: sent}
}

func (s *Session) onRecv(r *proto.Recv) Event {
	plain, err := s.Open(r)
	if err != nil {
		return RecvEvent{Recv: r, Err: err}
	}
	if s.AutoAck {
		if err := s.Ack(r); err != nil {
			return RecvEvent{Recv: r, Plaintext: plain, Err: err}
		}
	}
	return RecvEvent{Recv: r, Plaintext: plain}
}
