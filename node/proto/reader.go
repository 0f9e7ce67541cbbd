package proto

import "encoding/binary"

// reader walks one frame body. Its first error is sticky: after it, every
// read returns a zero value, so a packet's decode reads top-down with one
// error check at the end.
type reader struct {
	b   []byte // the body; never written
	off int    // next byte to read; invariant: 0 <= off <= len(b)
	typ PacketType
	err *DecodeError
}

// span locates a str field's bytes in the body, so that all of a packet's
// strings can be cut from one allocation (see arena).
type span struct{ off, n int }

func (r *reader) fail(kind ErrorKind, field string) {
	if r.err == nil {
		r.err = &DecodeError{Kind: kind, Type: r.typ, Field: field}
	}
}

// take returns the next n bytes, or nil after recording a truncation.
func (r *reader) take(n int, field string) []byte {
	if r.err != nil {
		return nil
	}
	if n > len(r.b)-r.off {
		r.fail(KindTruncated, field)
		return nil
	}
	b := r.b[r.off : r.off+n]
	r.off += n
	return b
}

func (r *reader) u8(field string) uint8 {
	if b := r.take(1, field); b != nil {
		return b[0]
	}
	return 0
}

func (r *reader) u32(field string) uint32 {
	if b := r.take(4, field); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

func (r *reader) u64(field string) uint64 {
	if b := r.take(8, field); b != nil {
		return binary.BigEndian.Uint64(b)
	}
	return 0
}

// seq reads a message_seq: u32 before version 6, u64 from it.
func (r *reader) seq(v uint8, field string) uint64 {
	if v >= 6 {
		return r.u64(field)
	}
	return uint64(r.u32(field))
}

// str reads a u16-length-prefixed string and returns where it lies.
func (r *reader) str(field string) span {
	b := r.take(2, field)
	if b == nil {
		return span{}
	}
	n := int(binary.BigEndian.Uint16(b))
	if n > MaxStringLen {
		r.fail(KindStringTooLong, field)
		return span{}
	}
	off := r.off
	if r.take(n, field) == nil {
		return span{}
	}
	return span{off, n}
}

// arena copies the body read so far into one string; the packet's string
// fields are then substrings of it: one allocation per packet, however many
// strings it has.
func (r *reader) arena() arena {
	if r.err != nil {
		return ""
	}
	return arena(r.b[:r.off])
}

// arena is empty after an error; get then returns "" for every span.
type arena string

func (a arena) get(s span) string {
	if s.off+s.n > len(a) {
		return ""
	}
	return string(a[s.off : s.off+s.n])
}

// rest returns the remaining body bytes, aliasing the input.
func (r *reader) rest() []byte {
	if r.err != nil {
		return nil
	}
	b := r.b[r.off:len(r.b):len(r.b)]
	r.off = len(r.b)
	return b
}

// done reports the first error, or trailing bytes if the body is not used up.
func (r *reader) done() error {
	if r.err == nil && r.off != len(r.b) {
		r.fail(KindTrailingBytes, "")
	}
	if r.err != nil {
		return r.err
	}
	return nil
}
