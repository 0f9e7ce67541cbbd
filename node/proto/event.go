package proto

// Event pushes a server event to a client. Data is JSON and aliases the
// bytes it was decoded from (see Decoder.Next).
type Event struct {
	Flags     Flags
	ID        string
	EventType string // the event's type name, e.g. "typing"
	Timestamp int64
	Data      []byte // the rest of the body
}

func (*Event) Type() PacketType     { return TypeEvent }
func (p *Event) headerFlags() uint8 { return uint8(p.Flags & flagsMask) }

func (p *Event) appendBody(w writer, _ uint8) writer {
	w.str("id", p.ID)
	w.str("type", p.EventType)
	w.u64(uint64(p.Timestamp))
	w.bytes(p.Data)
	return w
}

func (p *Event) decodeBody(r reader, flags, _ uint8) reader {
	p.Flags = Flags(flags)
	id := r.str("id")
	typ := r.str("type")
	p.Timestamp = int64(r.u64("timestamp"))
	a := r.arena()
	p.ID, p.EventType = a.get(id), a.get(typ)
	p.Data = r.rest()
	return r
}
