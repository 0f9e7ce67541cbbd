package state

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/jindou-im/jindou/node/proto"
)

// The binary encoding of commands and stored records. Every value starts
// with a format byte (recordFormat) and then its fields in a fixed order:
// integers as varints (signed ones zig-zag), strings and byte strings with a
// uvarint length, flag sets as one byte. It replaces JSON, whose encoding
// and reflection-driven decoding of every message, dedupe record and
// conversation cursor cost a tenth of the send path, and whose base64 of
// payloads doubled their size. A new field is appended at the end of its
// record with a new format byte; decoders refuse a format they do not know.

// recordFormat is the format byte of every record this version writes.
const recordFormat = 1

// ErrCorruptRecord: a stored value or command that does not decode.
var ErrCorruptRecord = errors.New("state: corrupt record")

// marshaler is a record that encodes itself; unmarshaler decodes itself.
type marshaler interface{ marshal(e *enc) }
type unmarshaler interface{ unmarshal(d *dec) }

// appendRecord appends r's encoding to dst.
func appendRecord(dst []byte, r marshaler) []byte {
	e := enc{b: append(dst, recordFormat)}
	r.marshal(&e)
	return e.b
}

// encode is r's encoding in a new slice.
func encode(r marshaler) []byte { return appendRecord(nil, r) }

// decodeRecord decodes b into r, or says why it cannot.
func decodeRecord(b []byte, r unmarshaler) error {
	if len(b) == 0 || b[0] != recordFormat {
		return fmt.Errorf("%w: format %v", ErrCorruptRecord, b[:min(len(b), 1)])
	}
	d := dec{b: b[1:]}
	r.unmarshal(&d)
	return d.done()
}

// done is the decoder's error, or a complaint of trailing bytes.
func (d *dec) done() error {
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("%w: %d trailing bytes", ErrCorruptRecord, len(d.b))
	}
	return d.err
}

// decode decodes a value the store or the raft log holds: those are
// checksummed by Pebble and written only by this package, so a value that
// does not decode is a bug or a corrupt disk, not input, and panics.
func decode(b []byte, r unmarshaler) {
	if err := decodeRecord(b, r); err != nil {
		panic(fmt.Sprintf("node: %T: %v", r, err))
	}
}

// enc appends fields.
type enc struct{ b []byte }

func (e *enc) uint(v uint64)   { e.b = binary.AppendUvarint(e.b, v) }
func (e *enc) int(v int64)     { e.b = binary.AppendVarint(e.b, v) }
func (e *enc) str(s string)    { e.uint(uint64(len(s))); e.b = append(e.b, s...) }
func (e *enc) bytes(b []byte)  { e.uint(uint64(len(b))); e.b = append(e.b, b...) }
func (e *enc) byte(v byte)     { e.b = append(e.b, v) }
func (e *enc) bool(v bool)     { e.b = append(e.b, b2u(v)) }
func (e *enc) strs(s []string) { e.uint(uint64(len(s))); e.each(s) }

func (e *enc) each(s []string) {
	for _, v := range s {
		e.str(v)
	}
}

func b2u(v bool) byte {
	if v {
		return 1
	}
	return 0
}

// dec reads fields; the first error sticks and later reads return zeros.
type dec struct {
	b   []byte
	err error
}

func (d *dec) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: bad %s", ErrCorruptRecord, what)
	}
	d.b = nil
}

func (d *dec) uint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("uvarint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *dec) int() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *dec) raw() []byte {
	n := d.uint()
	if n > uint64(len(d.b)) {
		d.fail("length")
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *dec) str() string   { return string(d.raw()) }
func (d *dec) bytes() []byte { return append([]byte(nil), d.raw()...) }

// op reads a command's op: one of the known ones without allocating (a
// raft entry is decoded once per message, and more on replicas).
func (d *dec) op() string { return internOp(d.raw()) }

func (d *dec) byte() byte {
	if len(d.b) == 0 {
		d.fail("byte")
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *dec) bool() bool {
	switch d.byte() {
	case 0:
		return false
	case 1:
		return true
	}
	d.fail("bool")
	return false
}

func (d *dec) uint32() uint32 {
	v := d.uint()
	if v > math.MaxUint32 {
		d.fail("uint32")
	}
	return uint32(v)
}

func (d *dec) int32() int32 {
	v := d.int()
	if v < math.MinInt32 || v > math.MaxInt32 {
		d.fail("int32")
	}
	return int32(v)
}

// strs reads a string list; its length is bounded by the bytes left, so a
// corrupt count cannot allocate more than the record holds.
func (d *dec) strs() []string {
	n := d.uint()
	if n > uint64(len(d.b)) {
		d.fail("list length")
		return nil
	}
	if n == 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = d.str()
	}
	return out
}

// Records.

func (k ChannelKey) marshal(e *enc) { e.byte(byte(k.Type)); e.str(k.ID) }
func (k *ChannelKey) unmarshal(d *dec) {
	k.Type, k.ID = proto.ChannelType(d.byte()), d.str()
}

// Flag bits of ChannelInfo and Header.
const (
	infoExists = 1 << iota
	infoLarge
	infoBan
	infoDisband
	infoSendBan
	infoAllowStranger
)

func (i ChannelInfo) marshal(e *enc) {
	e.byte(bit(i.Exists, infoExists) | bit(i.Large, infoLarge) | bit(i.Ban, infoBan) |
		bit(i.Disband, infoDisband) | bit(i.SendBan, infoSendBan) | bit(i.AllowStranger, infoAllowStranger))
}

func (i *ChannelInfo) unmarshal(d *dec) {
	f := d.byte()
	*i = ChannelInfo{Exists: f&infoExists != 0, Large: f&infoLarge != 0, Ban: f&infoBan != 0,
		Disband: f&infoDisband != 0, SendBan: f&infoSendBan != 0, AllowStranger: f&infoAllowStranger != 0}
}

func bit(v bool, b byte) byte {
	if v {
		return b
	}
	return 0
}

func (h Header) marshal(e *enc)    { e.byte(byte(h.Flags())) }
func (h *Header) unmarshal(d *dec) { *h = HeaderOf(proto.Flags(d.byte())) }

// hasStreamNo, in the header byte of a Message or SendCmd, says a
// stream_no follows the payload. Records written before it existed never
// set it, so they decode unchanged (no new format byte is needed for this
// one optional field).
const hasStreamNo = 0x80

// marshalHeader writes h, flagged when a stream_no follows the payload.
func marshalHeader(e *enc, h Header, streamNo string) {
	e.byte(byte(h.Flags()) | bit(streamNo != "", hasStreamNo))
}

// unmarshalHeader reads what marshalHeader wrote: the header and whether
// a stream_no follows the payload.
func unmarshalHeader(d *dec, h *Header) (streamNo bool) {
	b := d.byte()
	*h = HeaderOf(proto.Flags(b &^ hasStreamNo))
	return b&hasStreamNo != 0
}

func (d *dec) optStr(present bool) string {
	if !present {
		return ""
	}
	return d.str()
}

func (r ChannelRecord) marshal(e *enc) {
	r.Info.marshal(e)
	e.uint(r.LastSeq)
	e.int(int64(r.LastTimestamp))
	e.int(int64(r.WhitelistSize))
	e.bool(r.Convs)
}

func (r *ChannelRecord) unmarshal(d *dec) {
	r.Info.unmarshal(d)
	r.LastSeq, r.LastTimestamp, r.WhitelistSize, r.Convs = d.uint(), d.int32(), int(d.int()), d.bool()
}

func (m Message) marshal(e *enc) {
	e.int(m.MessageID)
	e.uint(m.Seq)
	e.str(m.ClientMsgNo)
	e.str(m.FromUID)
	m.Channel.marshal(e)
	e.int(int64(m.Timestamp))
	marshalHeader(e, m.Header, m.StreamNo)
	e.byte(byte(m.Setting))
	e.uint(uint64(m.Expire))
	e.str(m.Topic)
	e.bytes(m.Payload)
	if m.StreamNo != "" {
		e.str(m.StreamNo)
	}
}

func (m *Message) unmarshal(d *dec) {
	m.MessageID, m.Seq, m.ClientMsgNo, m.FromUID = d.int(), d.uint(), d.str(), d.str()
	m.Channel.unmarshal(d)
	m.Timestamp = d.int32()
	stream := unmarshalHeader(d, &m.Header)
	m.Setting, m.Expire, m.Topic, m.Payload = proto.Setting(d.byte()), d.uint32(), d.str(), d.bytes()
	m.StreamNo = d.optStr(stream)
}

// A dedupe record's refusal is a trailing field, present only when set: the
// records of a stored send read as they always did.
func (r dedupeRecord) marshal(e *enc) {
	e.uint(r.Seq)
	e.int(r.MessageID)
	e.int(r.AtMs)
	if r.Refused != 0 {
		e.uint(uint64(r.Refused))
	}
}

func (r *dedupeRecord) unmarshal(d *dec) {
	r.Seq, r.MessageID, r.AtMs = d.uint(), d.int(), d.int()
	if len(d.b) > 0 {
		r.Refused = proto.ReasonCode(d.uint())
	}
}

func (r convRecord) marshal(e *enc)    { e.uint(r.ReadSeq); e.uint(r.DeletedSeq) }
func (r *convRecord) unmarshal(d *dec) { r.ReadSeq, r.DeletedSeq = d.uint(), d.uint() }

func (r tokenRecord) marshal(e *enc)    { e.str(r.Token); e.byte(r.Level) }
func (r *tokenRecord) unmarshal(d *dec) { r.Token, r.Level = d.str(), d.byte() }

func (r slotMeta) marshal(e *enc)    { e.int(r.LastID) }
func (r *slotMeta) unmarshal(d *dec) { r.LastID = d.int() }

func (p Proposal) marshal(e *enc)    { e.uint(p.Node); e.uint(p.Nonce); e.uint(p.N) }
func (p *Proposal) unmarshal(d *dec) { p.Node, p.Nonce, p.N = d.uint(), d.uint(), d.uint() }

func (s SendCmd) marshal(e *enc) {
	e.int(s.ID)
	e.str(s.From)
	e.str(s.ClientMsgNo)
	marshalHeader(e, s.Header, s.StreamNo)
	e.byte(byte(s.Setting))
	e.uint(uint64(s.Expire))
	e.str(s.Topic)
	e.bytes(s.Payload)
	if s.StreamNo != "" {
		e.str(s.StreamNo)
	}
}

func (s *SendCmd) unmarshal(d *dec) {
	s.ID, s.From, s.ClientMsgNo = d.int(), d.str(), d.str()
	stream := unmarshalHeader(d, &s.Header)
	s.Setting, s.Expire, s.Topic, s.Payload = proto.Setting(d.byte()), d.uint32(), d.str(), d.bytes()
	s.StreamNo = d.optStr(stream)
}

// Command presence bits: which optional parts follow.
const (
	cmdInfo = 1 << iota
	cmdSend
	cmdEvent // appended after the other fields
)

func (c Command) marshal(e *enc) {
	e.str(c.Op)
	c.Prop.marshal(e)
	e.int(c.AtMs)
	c.Ch.marshal(e)
	e.byte(bit(c.Info != nil, cmdInfo) | bit(c.Send != nil, cmdSend) | bit(c.Event != nil, cmdEvent))
	if c.Info != nil {
		c.Info.marshal(e)
	}
	if c.Send != nil {
		c.Send.marshal(e)
	}
	e.strs(c.UIDs)
	e.bool(c.Reset)
	e.byte(c.Table)
	e.str(c.ListOp)
	e.str(c.UID)
	e.int(int64(c.Flag))
	e.str(c.Token)
	e.byte(c.Level)
	e.uint(c.Seq)
	e.uint(c.Unread)
	if c.Event != nil {
		c.Event.marshal(e)
	}
}

func (c *Command) unmarshal(d *dec) {
	c.Op = d.op()
	c.Prop.unmarshal(d)
	c.AtMs = d.int()
	c.Ch.unmarshal(d)
	parts := d.byte()
	if parts&cmdInfo != 0 {
		c.Info = &ChannelInfo{}
		c.Info.unmarshal(d)
	}
	if parts&cmdSend != 0 {
		c.Send = &SendCmd{}
		c.Send.unmarshal(d)
	}
	c.UIDs, c.Reset, c.Table, c.ListOp, c.UID = d.strs(), d.bool(), d.byte(), d.str(), d.str()
	c.Flag, c.Token, c.Level, c.Seq, c.Unread = int(d.int()), d.str(), d.byte(), d.uint(), d.uint()
	if parts&cmdEvent != 0 {
		c.Event = &EventCmd{}
		c.Event.unmarshal(d)
	}
}
