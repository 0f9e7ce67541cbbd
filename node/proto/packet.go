package proto

// Packet is one of the twelve packet types: *Connect, *Connack, *Send,
// *Sendack, *Recv, *Recvack, *Ping, *Pong, *Disconnect, *Sub, *Suback,
// *Event. The interface is sealed.
type Packet interface {
	Type() PacketType
	// headerFlags is the low nibble of the first byte.
	headerFlags() uint8
	// appendBody writes the body at version v. The writer and reader pass
	// by value so that they stay on the caller's stack.
	appendBody(w writer, v uint8) writer
	// decodeBody reads the body at version v; flags is the low nibble.
	decodeBody(r reader, flags uint8, v uint8) reader
}

// newPacket returns an empty packet of type t, or nil if t is unknown.
func newPacket(t PacketType) Packet {
	switch t {
	case TypeConnect:
		return new(Connect)
	case TypeConnack:
		return new(Connack)
	case TypeSend:
		return new(Send)
	case TypeSendack:
		return new(Sendack)
	case TypeRecv:
		return new(Recv)
	case TypeRecvack:
		return new(Recvack)
	case TypePing:
		return new(Ping)
	case TypePong:
		return new(Pong)
	case TypeDisconnect:
		return new(Disconnect)
	case TypeSub:
		return new(Sub)
	case TypeSuback:
		return new(Suback)
	case TypeEvent:
		return new(Event)
	}
	return nil
}

// needsVersion reports whether frames of type t can only be read or written
// once a version has been negotiated. CONNECT negotiates it; PING and PONG
// have no body.
func needsVersion(t PacketType) bool {
	return t != TypeConnect && t != TypePing && t != TypePong
}

func validVersion(v uint8) bool { return v >= MinVersion && v <= LatestVersion }

// Ping is the client's keep-alive: the single byte 0x70.
type Ping struct{}

// Pong answers a Ping: the single byte 0x80.
type Pong struct{}

func (*Ping) Type() PacketType                       { return TypePing }
func (*Ping) headerFlags() uint8                     { return 0 }
func (*Ping) appendBody(w writer, _ uint8) writer    { return w }
func (*Ping) decodeBody(r reader, _, _ uint8) reader { return r }

func (*Pong) Type() PacketType                       { return TypePong }
func (*Pong) headerFlags() uint8                     { return 0 }
func (*Pong) appendBody(w writer, _ uint8) writer    { return w }
func (*Pong) decodeBody(r reader, _, _ uint8) reader { return r }
