package proto

import "encoding/binary"

// writer appends one frame body. Like reader, its first error is sticky.
type writer struct {
	b   []byte
	typ PacketType
	err *EncodeError
}

func (w *writer) fail(field, reason string) {
	if w.err == nil {
		w.err = &EncodeError{Type: w.typ, Field: field, Reason: reason}
	}
}

func (w *writer) u8(v uint8) { w.b = append(w.b, v) }

func (w *writer) u32(v uint32) { w.b = binary.BigEndian.AppendUint32(w.b, v) }

func (w *writer) u64(v uint64) { w.b = binary.BigEndian.AppendUint64(w.b, v) }

// seq writes a message_seq: u32 before version 6, u64 from it.
func (w *writer) seq(v uint8, seq uint64, field string) {
	if v >= 6 {
		w.u64(seq)
		return
	}
	if seq > 1<<32-1 {
		w.fail(field, "message_seq exceeds u32 before version 6")
	}
	w.u32(uint32(seq))
}

func (w *writer) str(field, s string) {
	if len(s) > MaxStringLen {
		w.fail(field, "longer than 32767 bytes")
		return
	}
	w.b = binary.BigEndian.AppendUint16(w.b, uint16(len(s)))
	w.b = append(w.b, s...)
}

func (w *writer) bytes(b []byte) { w.b = append(w.b, b...) }
