package state

import (
	"fmt"

	"github.com/jindou-im/jindou/node/proto"
)

// Writer and Reader expose the record encoding (codec.go) to the node's
// peer codec, so that a message, a command or a conversation crosses the
// network in the same bytes it is stored in, and the one field encoding
// has one implementation.

// Writer appends fields to a byte slice.
type Writer struct{ e enc }

// NewWriter starts writing at the end of dst.
func NewWriter(dst []byte) *Writer { return &Writer{e: enc{b: dst}} }

// Bytes is everything written.
func (w *Writer) Bytes() []byte { return w.e.b }

func (w *Writer) Uint(v uint64)        { w.e.uint(v) }
func (w *Writer) Int(v int64)          { w.e.int(v) }
func (w *Writer) Str(s string)         { w.e.str(s) }
func (w *Writer) Raw(b []byte)         { w.e.bytes(b) }
func (w *Writer) Byte(v byte)          { w.e.byte(v) }
func (w *Writer) Bool(v bool)          { w.e.bool(v) }
func (w *Writer) Strs(s []string)      { w.e.strs(s) }
func (w *Writer) Channel(k ChannelKey) { k.marshal(&w.e) }
func (w *Writer) Message(m *Message)   { m.marshal(&w.e) }
func (w *Writer) SendCmd(s *SendCmd)   { s.marshal(&w.e) }
func (w *Writer) Info(i ChannelInfo)   { i.marshal(&w.e) }

// Command writes c with its format byte, as EncodeCommand does.
func (w *Writer) Command(c *Command) { w.e.b = appendRecord(w.e.b, c) }

// Conversation writes c with its recent messages.
func (w *Writer) Conversation(c *Conversation) {
	w.Channel(c.Channel)
	w.Uint(c.Unread)
	w.Int(int64(c.Timestamp))
	w.Uint(c.LastMsgSeq)
	w.Str(c.LastClientMsgNo)
	w.Uint(c.ReadToMsgSeq)
	w.Uint(uint64(len(c.Recents)))
	for _, m := range c.Recents {
		w.Message(m)
	}
}

// ConversationQuery writes q.
func (w *Writer) ConversationQuery(q ConversationQuery) {
	w.Str(q.UID)
	w.Int(int64(q.MsgCount))
	w.Bool(q.OnlyUnread)
	w.Uint(uint64(len(q.ExcludeTypes)))
	for _, t := range q.ExcludeTypes {
		w.Byte(byte(t))
	}
}

// Reader reads fields written by a Writer. The first error sticks: later
// reads return zero values, and Err reports it. Lengths are bounded by the
// bytes left, so hostile input cannot make it allocate more than it holds.
type Reader struct{ d dec }

// NewReader reads b.
func NewReader(b []byte) *Reader { return &Reader{d: dec{b: b}} }

// Err is the first decoding error, or trailing bytes once done is set.
func (r *Reader) Err() error { return r.d.err }

// Done checks that nothing is left and returns Err.
func (r *Reader) Done() error {
	if r.d.err == nil && len(r.d.b) != 0 {
		r.d.err = fmt.Errorf("%w: %d trailing bytes", ErrCorruptRecord, len(r.d.b))
	}
	return r.d.err
}

// Fail records a decoding error of what (an unknown kind, say).
func (r *Reader) Fail(what string) { r.d.fail(what) }

func (r *Reader) Uint() uint64          { return r.d.uint() }
func (r *Reader) Int() int64            { return r.d.int() }
func (r *Reader) Str() string           { return r.d.str() }
func (r *Reader) Bytes() []byte         { return r.d.bytes() }
func (r *Reader) Byte() byte            { return r.d.byte() }
func (r *Reader) Bool() bool            { return r.d.bool() }
func (r *Reader) Strs() []string        { return r.d.strs() }
func (r *Reader) Uint32() uint32        { return r.d.uint32() }
func (r *Reader) Int32() int32          { return r.d.int32() }
func (r *Reader) Info() (i ChannelInfo) { i.unmarshal(&r.d); return i }

// Count reads a list length, refused when more than the bytes left (every
// element takes at least one byte).
func (r *Reader) Count() int {
	n := r.d.uint()
	if n > uint64(len(r.d.b)) {
		r.d.fail("list length")
		return 0
	}
	return int(n)
}

func (r *Reader) Channel() (k ChannelKey) { k.unmarshal(&r.d); return k }

func (r *Reader) Message() *Message {
	m := &Message{}
	m.unmarshal(&r.d)
	return m
}

func (r *Reader) SendCmd() (s SendCmd) { s.unmarshal(&r.d); return s }

// Command reads a command written by Writer.Command.
func (r *Reader) Command() *Command {
	if r.d.byte() != recordFormat && r.d.err == nil {
		r.d.fail("command format")
	}
	c := &Command{}
	c.unmarshal(&r.d)
	return c
}

func (r *Reader) Conversation() Conversation {
	c := Conversation{Channel: r.Channel(), Unread: r.Uint(), Timestamp: r.Int32(), LastMsgSeq: r.Uint(),
		LastClientMsgNo: r.Str(), ReadToMsgSeq: r.Uint()}
	n := r.Count()
	for range n {
		c.Recents = append(c.Recents, r.Message())
	}
	return c
}

func (r *Reader) ConversationQuery() ConversationQuery {
	q := ConversationQuery{UID: r.Str(), MsgCount: int(r.Int()), OnlyUnread: r.Bool()}
	n := r.Count()
	for range n {
		q.ExcludeTypes = append(q.ExcludeTypes, proto.ChannelType(r.Byte()))
	}
	return q
}
