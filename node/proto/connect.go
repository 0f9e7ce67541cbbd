package proto

// Connect opens a session: the first frame a client sends.
type Connect struct {
	Flags           Flags
	Version         uint8 // the client's highest protocol version
	DeviceFlag      DeviceFlag
	DeviceID        string
	UID             string
	Token           string
	ClientTimestamp int64  // client clock, unix milliseconds
	ClientKey       string // base64 of the client's X25519 public key
}

func (*Connect) Type() PacketType     { return TypeConnect }
func (p *Connect) headerFlags() uint8 { return uint8(p.Flags & flagsMask) }

func (p *Connect) appendBody(w writer, _ uint8) writer {
	w.u8(p.Version)
	w.u8(uint8(p.DeviceFlag))
	w.str("device_id", p.DeviceID)
	w.str("uid", p.UID)
	w.str("token", p.Token)
	w.u64(uint64(p.ClientTimestamp))
	w.str("client_key", p.ClientKey)
	return w
}

func (p *Connect) decodeBody(r reader, flags, _ uint8) reader {
	p.Flags = Flags(flags)
	p.Version = r.u8("version")
	p.DeviceFlag = DeviceFlag(r.u8("device_flag"))
	dev := r.str("device_id")
	uid := r.str("uid")
	tok := r.str("token")
	p.ClientTimestamp = int64(r.u64("client_timestamp"))
	key := r.str("client_key")
	a := r.arena()
	p.DeviceID, p.UID, p.Token, p.ClientKey = a.get(dev), a.get(uid), a.get(tok), a.get(key)
	return r
}

// Connack answers a Connect.
type Connack struct {
	// HasServerVersion is CONNACK's header bit 0; ServerVersion is on the
	// wire only when it is set. The server sets it for clients above v3.
	HasServerVersion bool
	ServerVersion    uint8
	TimeDiff         int64 // server_now - client_timestamp, milliseconds
	ReasonCode       ReasonCode
	ServerKey        string // base64 of the server's X25519 public key
	Salt             string // the session IV, 16 chars of [0-9a-zA-Z]
	NodeID           uint64 // on the wire from version 4
}

func (*Connack) Type() PacketType { return TypeConnack }

func (p *Connack) headerFlags() uint8 {
	if p.HasServerVersion {
		return connackHasServerVersion
	}
	return 0
}

func (p *Connack) appendBody(w writer, v uint8) writer {
	if p.HasServerVersion {
		w.u8(p.ServerVersion)
	}
	w.u64(uint64(p.TimeDiff))
	w.u8(uint8(p.ReasonCode))
	w.str("server_key", p.ServerKey)
	w.str("salt", p.Salt)
	if v >= 4 {
		w.u64(p.NodeID)
	}
	return w
}

func (p *Connack) decodeBody(r reader, flags, v uint8) reader {
	p.HasServerVersion = flags&connackHasServerVersion != 0
	if p.HasServerVersion {
		p.ServerVersion = r.u8("server_version")
	}
	p.TimeDiff = int64(r.u64("time_diff"))
	p.ReasonCode = ReasonCode(r.u8("reason_code"))
	key := r.str("server_key")
	salt := r.str("salt")
	if v >= 4 {
		p.NodeID = r.u64("node_id")
	}
	a := r.arena()
	p.ServerKey, p.Salt = a.get(key), a.get(salt)
	return r
}

// Disconnect ends a session, from either side.
type Disconnect struct {
	Flags      Flags
	ReasonCode ReasonCode
	Reason     string
}

func (*Disconnect) Type() PacketType     { return TypeDisconnect }
func (p *Disconnect) headerFlags() uint8 { return uint8(p.Flags & flagsMask) }

func (p *Disconnect) appendBody(w writer, _ uint8) writer {
	w.u8(uint8(p.ReasonCode))
	w.str("reason", p.Reason)
	return w
}

func (p *Disconnect) decodeBody(r reader, flags, _ uint8) reader {
	p.Flags = Flags(flags)
	p.ReasonCode = ReasonCode(r.u8("reason_code"))
	reason := r.str("reason")
	p.Reason = r.arena().get(reason)
	return r
}
