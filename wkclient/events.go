package wkclient

import (
	"errors"

	"github.com/jindou-im/jindou/node/proto"
)

// Event is one thing Session.Next read from the server. The concrete types
// below are the complete set. Byte fields of the packets they carry alias
// the session's input and stay valid until the next Feed.
type Event interface{ event() }

// ConnackEvent is the answer to the CONNECT. Err is set when the CONNACK
// said success but the client could not set up its side of the session
// (a bad server key, a version it did not ask for); the session is then
// not ready.
type ConnackEvent struct {
	Connack *proto.Connack
	Err     error
}

// SendackEvent is a SENDACK. Sent is the in-flight SEND it answers, which
// it stops tracking; Err is ErrUnknownClientSeq (wrapped) and Sent nil when
// no SEND in flight has its client_seq.
type SendackEvent struct {
	Ack  *proto.Sendack
	Sent *Sent
	Err  error
}

// RecvEvent is a RECV, verified and decrypted: Plaintext is the message, or
// Err says why it could not be opened (proto.ErrMsgKey, proto.ErrDecrypt,
// ErrNotReady).
type RecvEvent struct {
	Recv      *proto.Recv
	Plaintext []byte
	Err       error
}

// DisconnectEvent is the server saying it is closing the connection.
type DisconnectEvent struct{ Disconnect *proto.Disconnect }

// PongEvent answers a PING.
type PongEvent struct{}

// OtherEvent is any packet a client does not expect from a server (a
// CONNECT, a SEND, ...): it is handed over as it is, for the driver to
// report.
type OtherEvent struct{ Packet proto.Packet }

func (ConnackEvent) event()    {}
func (SendackEvent) event()    {}
func (RecvEvent) event()       {}
func (DisconnectEvent) event() {}
func (PongEvent) event()       {}
func (OtherEvent) event()      {}

// Packet is the packet an event was read from (nil for none).
func Packet(ev Event) proto.Packet {
	switch e := ev.(type) {
	case ConnackEvent:
		return e.Connack
	case SendackEvent:
		return e.Ack
	case RecvEvent:
		return e.Recv
	case DisconnectEvent:
		return e.Disconnect
	case PongEvent:
		return &proto.Pong{}
	case OtherEvent:
		return e.Packet
	}
	return nil
}

var (
	// ErrUnknownClientSeq: a SENDACK whose client_seq no SEND in flight has.
	ErrUnknownClientSeq = errors.New("SENDACK for unknown client_seq")
	// ErrNotReady: an operation that needs the AES session before a
	// successful CONNACK set it up.
	ErrNotReady = errors.New("wkclient: no session before a successful CONNACK")
)
