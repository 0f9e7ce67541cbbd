package proto

// Sub subscribes a connection to, or unsubscribes it from, a channel.
type Sub struct {
	Flags       Flags
	Setting     Setting
	SubNo       string
	ChannelID   string
	ChannelType ChannelType
	Action      SubAction
	Param       string
}

func (*Sub) Type() PacketType     { return TypeSub }
func (p *Sub) headerFlags() uint8 { return uint8(p.Flags & flagsMask) }

func (p *Sub) appendBody(w writer, _ uint8) writer {
	w.u8(uint8(p.Setting))
	w.str("sub_no", p.SubNo)
	w.str("channel_id", p.ChannelID)
	w.u8(uint8(p.ChannelType))
	w.u8(uint8(p.Action))
	w.str("param", p.Param)
	return w
}

func (p *Sub) decodeBody(r reader, flags, _ uint8) reader {
	p.Flags = Flags(flags)
	p.Setting = Setting(r.u8("setting"))
	subNo := r.str("sub_no")
	ch := r.str("channel_id")
	p.ChannelType = ChannelType(r.u8("channel_type"))
	p.Action = SubAction(r.u8("action"))
	param := r.str("param")
	a := r.arena()
	p.SubNo, p.ChannelID, p.Param = a.get(subNo), a.get(ch), a.get(param)
	return r
}

// Suback answers a Sub.
type Suback struct {
	Flags       Flags
	SubNo       string
	ChannelID   string
	ChannelType ChannelType
	Action      SubAction
	ReasonCode  ReasonCode
}

func (*Suback) Type() PacketType     { return TypeSuback }
func (p *Suback) headerFlags() uint8 { return uint8(p.Flags & flagsMask) }

func (p *Suback) appendBody(w writer, _ uint8) writer {
	w.str("sub_no", p.SubNo)
	w.str("channel_id", p.ChannelID)
	w.u8(uint8(p.ChannelType))
	w.u8(uint8(p.Action))
	w.u8(uint8(p.ReasonCode))
	return w
}

func (p *Suback) decodeBody(r reader, flags, _ uint8) reader {
	p.Flags = Flags(flags)
	subNo := r.str("sub_no")
	ch := r.str("channel_id")
	p.ChannelType = ChannelType(r.u8("channel_type"))
	p.Action = SubAction(r.u8("action"))
	p.ReasonCode = ReasonCode(r.u8("reason_code"))
	a := r.arena()
	p.SubNo, p.ChannelID = a.get(subNo), a.get(ch)
	return r
}
