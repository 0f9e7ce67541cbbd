package proto

// Recv delivers a stored message to one connection.
//
// Payload aliases the bytes it was decoded from (see Decoder.Next).
type Recv struct {
	Flags       Flags
	Setting     Setting
	MsgKey      string
	FromUID     string
	ChannelID   string
	ChannelType ChannelType
	Expire      uint32 // on the wire from version 3
	ClientMsgNo string
	// The stream fields are on the wire only if Setting.HasStream(v), in
	// one of two layouts (see Setting.GoStreamLayout): WuKongIM's
	// (stream_flag u8, stream_no, stream_id u64) or the JS SDK's
	// (stream_no, stream_seq u32, stream_flag u8).
	StreamNo   string
	StreamID   uint64 // WuKongIM's layout only; WuKongIM sends the message id
	StreamSeq  uint32 // the JS SDK's layout only
	StreamFlag StreamFlag
	MessageID  int64
	MessageSeq uint64 // u32 on the wire before version 6
	Timestamp  int32  // unix seconds
	Topic      string // on the wire only if Setting.HasTopic()
	Payload    []byte // the rest of the body
}

func (*Recv) Type() PacketType     { return TypeRecv }
func (p *Recv) headerFlags() uint8 { return uint8(p.Flags & flagsMask) }

func (p *Recv) appendBody(w writer, v uint8) writer {
	w.u8(uint8(p.Setting))
	w.str("msg_key", p.MsgKey)
	w.str("from_uid", p.FromUID)
	w.str("channel_id", p.ChannelID)
	w.u8(uint8(p.ChannelType))
	if v >= 3 {
		w.u32(p.Expire)
	}
	w.str("client_msg_no", p.ClientMsgNo)
	switch {
	case p.Setting.HasStream(v) && p.Setting.GoStreamLayout():
		w.u8(uint8(p.StreamFlag))
		w.str("stream_no", p.StreamNo)
		w.u64(p.StreamID)
	case p.Setting.HasStream(v):
		w.str("stream_no", p.StreamNo)
		w.u32(p.StreamSeq)
		w.u8(uint8(p.StreamFlag))
	}
	w.u64(uint64(p.MessageID))
	w.seq(v, p.MessageSeq, "message_seq")
	w.u32(uint32(p.Timestamp))
	if p.Setting.HasTopic() {
		w.str("topic", p.Topic)
	}
	w.bytes(p.Payload)
	return w
}

func (p *Recv) decodeBody(r reader, flags, v uint8) reader {
	p.Flags = Flags(flags)
	p.Setting = Setting(r.u8("setting"))
	key := r.str("msg_key")
	from := r.str("from_uid")
	ch := r.str("channel_id")
	p.ChannelType = ChannelType(r.u8("channel_type"))
	if v >= 3 {
		p.Expire = r.u32("expire")
	}
	msgNo := r.str("client_msg_no")
	var stream, topic span
	switch {
	case p.Setting.HasStream(v) && p.Setting.GoStreamLayout():
		p.StreamFlag = StreamFlag(r.u8("stream_flag"))
		stream = r.str("stream_no")
		p.StreamID = r.u64("stream_id")
	case p.Setting.HasStream(v):
		stream = r.str("stream_no")
		p.StreamSeq = r.u32("stream_seq")
		p.StreamFlag = StreamFlag(r.u8("stream_flag"))
	}
	p.MessageID = int64(r.u64("message_id"))
	p.MessageSeq = r.seq(v, "message_seq")
	p.Timestamp = int32(r.u32("timestamp"))
	if p.Setting.HasTopic() {
		topic = r.str("topic")
	}
	a := r.arena()
	p.MsgKey, p.FromUID, p.ChannelID = a.get(key), a.get(from), a.get(ch)
	p.ClientMsgNo, p.StreamNo, p.Topic = a.get(msgNo), a.get(stream), a.get(topic)
	p.Payload = r.rest()
	return r
}

// Recvack acknowledges a Recv. The SDK echoes the Recv's NoPersist, RedDot
// and SyncOnce flags in it.
type Recvack struct {
	Flags      Flags
	MessageID  int64
	MessageSeq uint64 // u32 on the wire before version 6
}

func (*Recvack) Type() PacketType     { return TypeRecvack }
func (p *Recvack) headerFlags() uint8 { return uint8(p.Flags & flagsMask) }

func (p *Recvack) appendBody(w writer, v uint8) writer {
	w.u64(uint64(p.MessageID))
	w.seq(v, p.MessageSeq, "message_seq")
	return w
}

func (p *Recvack) decodeBody(r reader, flags, v uint8) reader {
	p.Flags = Flags(flags)
	p.MessageID = int64(r.u64("message_id"))
	p.MessageSeq = r.seq(v, "message_seq")
	return r
}
