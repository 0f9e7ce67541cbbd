package node

import (
	"errors"
	"fmt"

	"github.com/jindou-im/jindou/node/proto"
)

// Protocol errors: what a connection sent that the server cannot take,
// and the DISCONNECT reason each gets.

// errBeforeConnect: a frame other than CONNECT opened the connection.
type errBeforeConnect struct{ typ proto.PacketType }

func (e errBeforeConnect) Error() string {
	return fmt.Sprintf("%s before CONNECT: the connection is not authenticated", e.typ)
}

// errUnexpected: a packet only the server sends, or a second CONNECT.
type errUnexpected struct{ typ proto.PacketType }

func (e errUnexpected) Error() string {
	return fmt.Sprintf("unexpected %s from a client", e.typ)
}

// nextPacket is the next packet buffered for c, or nil when more input
// is needed. Before CONNECT only a CONNECT is decoded: anything else is
// errBeforeConnect, whatever its body (a SEND cannot even be decoded
// before the version is known).
func (g *gateway) nextPacket(c *client) (proto.Packet, error) {
	if c.state != stateConnecting {
		return c.dec.Next()
	}
	f, ok, err := c.dec.NextFrame()
	if !ok {
		return nil, err
	}
	if f.Type != proto.TypeConnect {
		return nil, errBeforeConnect{f.Type}
	}
	return f.Decode(c.dec.Version())
}

// protocolReason is the DISCONNECT reason code of a protocol error:
// AuthFail for frames before CONNECT, NotSupportHeader for a packet type
// or header the server does not take, PayloadDecodeError for a body that
// does not decode.
func protocolReason(err error) proto.ReasonCode {
	var before errBeforeConnect
	var unexpected errUnexpected
	var de *proto.DecodeError
	switch {
	case errors.As(err, &before):
		return proto.ReasonAuthFail
	case errors.As(err, &unexpected):
		return proto.ReasonNotSupportHeader
	case errors.As(err, &de) && (de.Kind == proto.KindUnknownType || de.Kind == proto.KindBadHeader):
		return proto.ReasonNotSupportHeader
	}
	return proto.ReasonPayloadDecodeError
}
