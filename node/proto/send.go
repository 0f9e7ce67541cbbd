package proto

// Send is a message from a client into a channel.
//
// Payload aliases the bytes it was decoded from (see Decoder.Next); copy it
// to keep it past that buffer's lifetime.
type Send struct {
	Flags       Flags
	Setting     Setting
	ClientSeq   uint32 // per-connection counter matched by Sendack
	ClientMsgNo string
	StreamNo    string // on the wire only if Setting.HasStream(v)
	ChannelID   string
	ChannelType ChannelType
	Expire      uint32 // on the wire from version 3; seconds, 0 = never
	MsgKey      string
	Topic       string // on the wire only if Setting.HasTopic()
	Payload     []byte // the rest of the body
}

func (*Send) Type() PacketType     { return TypeSend }
func (p *Send) headerFlags() uint8 { return uint8(p.Flags & flagsMask) }

func (p *Send) appendBody(w writer, v uint8) writer {
	w.u8(uint8(p.Setting))
	w.u32(p.ClientSeq)
	w.str("client_msg_no", p.ClientMsgNo)
	if p.Setting.HasStream(v) {
		w.str("stream_no", p.StreamNo)
	}
	w.str("channel_id", p.ChannelID)
	w.u8(uint8(p.ChannelType))
	if v >= 3 {
		w.u32(p.Expire)
	}
	w.str("msg_key", p.MsgKey)
	if p.Setting.HasTopic() {
		w.str("topic", p.Topic)
	}
	w.bytes(p.Payload)
	return w
}

func (p *Send) decodeBody(r reader, flags, v uint8) reader {
	p.Flags = Flags(flags)
	p.Setting = Setting(r.u8("setting"))
	p.ClientSeq = r.u32("client_seq")
	msgNo := r.str("client_msg_no")
	var stream, topic span
	if p.Setting.HasStream(v) {
		stream = r.str("stream_no")
	}
	ch := r.str("channel_id")
	p.ChannelType = ChannelType(r.u8("channel_type"))
	if v >= 3 {
		p.Expire = r.u32("expire")
	}
	key := r.str("msg_key")
	if p.Setting.HasTopic() {
		topic = r.str("topic")
	}
	a := r.arena()
	p.ClientMsgNo, p.StreamNo, p.ChannelID = a.get(msgNo), a.get(stream), a.get(ch)
	p.MsgKey, p.Topic = a.get(key), a.get(topic)
	p.Payload = r.rest()
	return r
}

// Sendack answers a Send once its message is durable.
type Sendack struct {
	Flags      Flags
	MessageID  int64
	ClientSeq  uint32
	MessageSeq uint64 // u32 on the wire before version 6
	ReasonCode ReasonCode
}

func (*Sendack) Type() PacketType     { return TypeSendack }
func (p *Sendack) headerFlags() uint8 { return uint8(p.Flags & flagsMask) }

func (p *Sendack) appendBody(w writer, v uint8) writer {
	w.u64(uint64(p.MessageID))
	w.u32(p.ClientSeq)
	w.seq(v, p.MessageSeq, "message_seq")
	w.u8(uint8(p.ReasonCode))
	return w
}

func (p *Sendack) decodeBody(r reader, flags, v uint8) reader {
	p.Flags = Flags(flags)
	p.MessageID = int64(r.u64("message_id"))
	p.ClientSeq = r.u32("client_seq")
	p.MessageSeq = r.seq(v, "message_seq")
	p.ReasonCode = ReasonCode(r.u8("reason_code"))
	return r
}
