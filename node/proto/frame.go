package proto

// AppendFrame appends p, framed, at protocol version v to dst and returns
// the extended buffer. PING and PONG are the single bytes 0x70 and 0x80.
// On error dst is returned unchanged.
func AppendFrame(dst []byte, p Packet, v uint8) ([]byte, error) {
	t := p.Type()
	if t == TypePing || t == TypePong {
		return append(dst, byte(t)<<4), nil
	}
	if needsVersion(t) && !validVersion(v) {
		return dst, &EncodeError{Type: t, Field: "version", Reason: "no negotiated version"}
	}
	// Reserve the longest length field, write the body after it, then close
	// the gap: bodies are small next to the copy this saves computing sizes.
	start := len(dst)
	dst = append(dst, byte(t)<<4|p.headerFlags(), 0, 0, 0, 0)
	w := p.appendBody(writer{b: dst, typ: t}, v)
	if w.err != nil {
		return dst[:start], w.err
	}
	dst = w.b
	n := len(dst) - start - 5
	if n > maxRemainingLength {
		return dst[:start], &EncodeError{Type: t, Field: "body", Reason: "longer than 4 length bytes allow"}
	}
	lenAt := start + 1
	gap := 4 - lengthSize(n)
	copy(dst[lenAt+4-gap:], dst[lenAt+4:])
	dst = dst[:len(dst)-gap]
	appendLength(dst[lenAt:lenAt], n)
	return dst, nil
}

// Frame is one frame whose bytes have all arrived, not yet decoded.
type Frame struct {
	Type  PacketType
	Flags uint8  // the header's low nibble
	Body  []byte // the body; aliases the input
}

// ParseFrame finds the first frame in b without decoding its body. It
// returns the frame and the bytes it spans; n == 0 with a nil error means b
// holds only the start of a frame. A body longer than maxBody is an error
// as soon as its length has been read, before the body arrives.
func ParseFrame(b []byte, maxBody int) (f Frame, n int, err error) {
	if len(b) == 0 {
		return Frame{}, 0, nil
	}
	f.Type, f.Flags = PacketType(b[0]>>4), b[0]&0x0f
	if !f.Type.Valid() {
		return Frame{}, 0, &DecodeError{Kind: KindUnknownType, Type: f.Type}
	}
	if f.Type == TypePing || f.Type == TypePong {
		if f.Flags != 0 {
			return Frame{}, 0, &DecodeError{Kind: KindBadHeader, Type: f.Type}
		}
		return f, 1, nil
	}
	length, size, derr := readLength(b[1:])
	if derr != nil {
		derr.Type = f.Type
		return Frame{}, 0, derr
	}
	if size == 0 {
		return Frame{}, 0, nil
	}
	if length > maxBody {
		return Frame{}, 0, &DecodeError{Kind: KindFrameTooLarge, Type: f.Type}
	}
	end := 1 + size + length
	if len(b) < end {
		return Frame{}, 0, nil
	}
	f.Body = b[1+size : end : end]
	return f, end, nil
}

// Decode decodes f's body at version v into a new packet.
func (f Frame) Decode(v uint8) (Packet, error) {
	p := newPacket(f.Type)
	if p == nil {
		return nil, &DecodeError{Kind: KindUnknownType, Type: f.Type}
	}
	if err := f.DecodeInto(p, v); err != nil {
		return nil, err
	}
	return p, nil
}

// DecodeInto decodes f's body at version v into p, which must be of f's
// type. It lets a hot path reuse one packet value per type.
func (f Frame) DecodeInto(p Packet, v uint8) error {
	if p.Type() != f.Type {
		return &DecodeError{Kind: KindWrongType, Type: f.Type}
	}
	if needsVersion(f.Type) && !validVersion(v) {
		return &DecodeError{Kind: KindBadVersion, Type: f.Type}
	}
	r := p.decodeBody(reader{b: f.Body, typ: f.Type}, f.Flags, v)
	return r.done()
}

// DecodeFrame decodes the single frame that makes up all of b, at version
// v. A short b is KindTruncated; bytes after the frame, KindTrailingBytes.
func DecodeFrame(b []byte, v uint8) (Packet, error) {
	f, n, err := ParseFrame(b, maxRemainingLength)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		var t PacketType
		if len(b) > 0 {
			t = PacketType(b[0] >> 4)
		}
		return nil, &DecodeError{Kind: KindTruncated, Type: t}
	}
	if n != len(b) {
		return nil, &DecodeError{Kind: KindTrailingBytes, Type: f.Type}
	}
	return f.Decode(v)
}
