package state

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"slices"
	"strconv"

	"github.com/cockroachdb/pebble/v2"
)

// Message events (POST /message/event, /message/eventsync): the streaming
// replies AI bots send, appended to a message (named by its channel and
// client_msg_no) as events, with WuKongIM v2.2.5's semantics. Each event
// gets the next msg_event_seq of its message; events are grouped by
// event_key ("main" unless named), and each key keeps one projected
// state: its status (open, closed, error, cancelled), its last event and
// a snapshot (stream.delta events of kind "text" concatenate their delta
// into it). Once a key's status is terminal it takes no more events.
// Event sync lists a message's keys whose last event is past a seq, in
// seq order, each as its projection.
//
// Unlike WuKongIM, which keeps stream.delta events in a per-node cache
// until a terminal event persists the merged snapshot, Jindou replicates
// every event (a delta is then synced mid-stream, and survives a crash),
// and an event_id repeated for its key is not applied again (WuKongIM
// recognises only a repeat of the key's last event).

// Event types and statuses, as WuKongIM names them.
const (
	EventStreamDelta    = "stream.delta"
	EventStreamClose    = "stream.close"
	EventStreamError    = "stream.error"
	EventStreamCancel   = "stream.cancel"
	EventStreamSnapshot = "stream.snapshot"
	EventStreamFinish   = "stream.finish"

	EventOpen      = "open"
	EventClosed    = "closed"
	EventError     = "error"
	EventCancelled = "cancelled"

	// EventKeyDefault is the key of events that name none;
	// EventKeyFinish the key of stream.finish (the whole message's end).
	EventKeyDefault = "main"
	EventKeyFinish  = "__finish__"
)

// maxEventSnapshot bounds a key's snapshot: each event rewrites it, so a
// stream of deltas growing it past this ends the key with status error
// rather than rewriting an ever larger record.
const maxEventSnapshot = 1 << 20

// OpEvent appends Command.Event to the message of channel Command.Ch.
const OpEvent = "event"

// EventCmd is an event to append to a message.
type EventCmd struct {
	ClientMsgNo string
	EventID     string
	EventKey    string // normalised: never empty
	EventType   string // lower case
	Visibility  string
	OccurredAt  int64 // unix ms; the proposer's clock when the caller gave none
	Payload     []byte
}

// Tables: a message's event seq, each key's state, and each event id
// applied (to recognise a repeat).
const (
	tblEventSeq   = 'k' // chkey client_msg_no → u64
	tblEventState = 'e' // chkey client_msg_no NUL event_key → eventState
	tblEventID    = 'f' // chkey client_msg_no NUL event_key NUL event_id → u64 seq
)

func eventSeqKey(slot int, ch ChannelKey, cmn string) []byte {
	return append(appendChannel(tableKey(slot, tblEventSeq), ch), cmn...)
}

func eventStatePrefix(slot int, ch ChannelKey, cmn string) []byte {
	return append(append(appendChannel(tableKey(slot, tblEventState), ch), cmn...), 0)
}

func eventIDKey(slot int, ch ChannelKey, cmn, key, id string) []byte {
	b := append(append(appendChannel(tableKey(slot, tblEventID), ch), cmn...), 0)
	return append(append(append(b, key...), 0), id...)
}

// eventState is a key's projection.
type eventState struct {
	Status         string
	LastSeq        uint64
	LastEventID    string
	LastEventType  string
	LastVisibility string
	LastOccurredAt int64
	Snapshot       []byte
	EndReason      byte
	Error          string
}

func (s eventState) marshal(e *enc) {
	e.str(s.Status)
	e.uint(s.LastSeq)
	e.str(s.LastEventID)
	e.str(s.LastEventType)
	e.str(s.LastVisibility)
	e.int(s.LastOccurredAt)
	e.bytes(s.Snapshot)
	e.byte(s.EndReason)
	e.str(s.Error)
}

func (s *eventState) unmarshal(d *dec) {
	s.Status, s.LastSeq, s.LastEventID, s.LastEventType = d.str(), d.uint(), d.str(), d.str()
	s.LastVisibility, s.LastOccurredAt, s.Snapshot = d.str(), d.int(), d.bytes()
	s.EndReason, s.Error = d.byte(), d.str()
}

func (c EventCmd) marshal(e *enc) {
	e.str(c.ClientMsgNo)
	e.str(c.EventID)
	e.str(c.EventKey)
	e.str(c.EventType)
	e.str(c.Visibility)
	e.int(c.OccurredAt)
	e.bytes(c.Payload)
}

func (c *EventCmd) unmarshal(d *dec) {
	c.ClientMsgNo, c.EventID, c.EventKey, c.EventType = d.str(), d.str(), d.str(), d.str()
	c.Visibility, c.OccurredAt, c.Payload = d.str(), d.int(), d.bytes()
}

func terminalEvent(status string) bool {
	return status == EventClosed || status == EventError || status == EventCancelled
}

// applyEvent appends c.Event unless its id was applied for its key or
// the key is over.
func (f *fsm) applyEvent(c *Command) {
	ev := c.Event
	idKey := eventIDKey(f.slot, c.Ch, ev.ClientMsgNo, ev.EventKey, ev.EventID)
	if f.has(idKey) {
		return
	}
	stKey := append(eventStatePrefix(f.slot, c.Ch, ev.ClientMsgNo), ev.EventKey...)
	var st eventState
	if v, ok := f.get(stKey); ok {
		decode(v, &st)
	}
	if terminalEvent(st.Status) {
		return
	}
	seqKey := eventSeqKey(f.slot, c.Ch, ev.ClientMsgNo)
	var seq uint64
	if v, ok := f.get(seqKey); ok {
		seq = binary.BigEndian.Uint64(v)
	}
	seq++
	f.put(seqKey, binary.BigEndian.AppendUint64(nil, seq))
	f.put(idKey, binary.BigEndian.AppendUint64(nil, seq))
	reduceEvent(&st, ev, seq)
	f.putRecord(stKey, st)
}

// reduceEvent folds event ev, given seq, into its key's state (WuKongIM's
// reduceEventState).
func reduceEvent(st *eventState, ev *EventCmd, seq uint64) {
	st.LastEventID, st.LastEventType = ev.EventID, ev.EventType
	st.LastVisibility, st.LastOccurredAt, st.LastSeq = ev.Visibility, ev.OccurredAt, seq
	switch ev.EventType {
	case EventStreamDelta:
		if st.Status == "" {
			st.Status = EventOpen
		}
		st.Snapshot = deltaSnapshot(st.Snapshot, ev.Payload)
	case EventStreamSnapshot:
		st.Snapshot = slices.Clone(ev.Payload)
	case EventStreamClose, EventStreamError, EventStreamCancel:
		fields := jsonObject(ev.Payload)
		if raw, ok := fields["snapshot"]; ok && len(raw) > 0 && !bytes.Equal(raw, []byte("null")) {
			st.Snapshot = slices.Clone([]byte(raw))
		}
		switch ev.EventType {
		case EventStreamClose:
			st.Status, st.EndReason = EventClosed, endReason(fields["end_reason"])
		case EventStreamError:
			st.Status = EventError
			_ = json.Unmarshal(fields["error"], &st.Error)
		default:
			st.Status = EventCancelled
		}
	case EventStreamFinish:
		st.Status = EventClosed
	}
	if len(st.Snapshot) > maxEventSnapshot {
		st.Snapshot = st.Snapshot[:maxEventSnapshot]
		st.Status, st.Error = EventError, "snapshot over "+strconv.Itoa(maxEventSnapshot)+" bytes"
	}
}

// deltaSnapshot is the snapshot after a delta: a payload that is not a
// JSON object is appended as it is, one of another kind than "text"
// replaces the snapshot, a text delta is appended to the snapshot's text.
func deltaSnapshot(snapshot, payload []byte) []byte {
	if len(payload) == 0 {
		return snapshot
	}
	var p map[string]any
	if json.Unmarshal(payload, &p) != nil || p == nil {
		return append(slices.Clone(snapshot), payload...)
	}
	if kind, _ := p["kind"].(string); kind != "text" {
		return slices.Clone(payload)
	}
	delta, _ := p["delta"].(string)
	if delta == "" {
		return snapshot
	}
	snap := map[string]any{}
	if len(snapshot) > 0 {
		_ = json.Unmarshal(snapshot, &snap)
	}
	text, _ := snap["text"].(string)
	snap["kind"], snap["text"] = "text", text+delta
	out, _ := json.Marshal(snap) // map keys sorted: deterministic
	return out
}

func jsonObject(b []byte) map[string]json.RawMessage {
	var m map[string]json.RawMessage
	_ = json.Unmarshal(b, &m)
	return m
}

// endReason reads end_reason, a number or a numeric string.
func endReason(raw json.RawMessage) byte {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return 0
	}
	switch v := v.(type) {
	case float64:
		return byte(v)
	case string:
		n, _ := strconv.ParseUint(v, 10, 8)
		return byte(n)
	}
	return 0
}

// MessageEvent is a key's projection, as event sync answers it.
type MessageEvent struct {
	Seq        uint64 // msg_event_seq of the key's last event
	EventID    string
	EventKey   string
	EventType  string
	Visibility string
	OccurredAt int64
	Payload    []byte
	Status     string
}

func (e MessageEvent) marshal(w *enc) {
	w.uint(e.Seq)
	w.each([]string{e.EventID, e.EventKey, e.EventType, e.Visibility})
	w.int(e.OccurredAt)
	w.bytes(e.Payload)
	w.str(e.Status)
}

func (e *MessageEvent) unmarshal(d *dec) {
	e.Seq, e.EventID, e.EventKey, e.EventType, e.Visibility = d.uint(), d.str(), d.str(), d.str(), d.str()
	e.OccurredAt, e.Payload, e.Status = d.int(), d.bytes(), d.str()
}

// project is a key's state as an event (WuKongIM's buildProjectedEvent):
// without a snapshot, its payload is the status.
func (st eventState) project(key string) MessageEvent {
	typ := st.LastEventType
	if typ == "" {
		typ = EventStreamSnapshot
	}
	payload := slices.Clone(st.Snapshot)
	if len(payload) == 0 {
		p := map[string]any{"status": st.Status, "end_reason": st.EndReason}
		if st.Error != "" {
			p["error"] = st.Error
		}
		payload, _ = json.Marshal(p)
	}
	return MessageEvent{Seq: st.LastSeq, EventID: st.LastEventID, EventKey: key, EventType: typ,
		Visibility: st.LastVisibility, OccurredAt: st.LastOccurredAt, Payload: payload, Status: st.Status}
}

// MessageEvents lists the projections of the keys of message cmn of ch
// (only key's if key is not empty) whose last event is past seq from, in
// seq order.
func (m *Machine) MessageEvents(r pebble.Reader, ch ChannelKey, cmn string, from uint64, key string) []MessageEvent {
	prefix := eventStatePrefix(m.slot, ch, cmn)
	var out []MessageEvent
	Scan(r, prefix, func(k, v []byte) {
		var st eventState
		decode(v, &st)
		if name := string(k[len(prefix):]); (key == "" || name == key) && st.LastSeq > from {
			out = append(out, st.project(name))
		}
	})
	slices.SortFunc(out, func(a, b MessageEvent) int { return cmp.Compare(a.Seq, b.Seq) })
	return out
}

// AppendedEvent is what an append of event id to key left: the event's
// msg_event_seq (0 if it was not applied: its key was over) and the key's
// projection; ok is false when the key has no state.
func (m *Machine) AppendedEvent(r pebble.Reader, ch ChannelKey, cmn, key, id string) (seq uint64, ev MessageEvent, ok bool) {
	if v, found := GetValue(r, eventIDKey(m.slot, ch, cmn, key, id)); found {
		seq = binary.BigEndian.Uint64(v)
	}
	v, found := GetValue(r, append(eventStatePrefix(m.slot, ch, cmn), key...))
	if !found {
		return seq, MessageEvent{}, false
	}
	var st eventState
	decode(v, &st)
	return seq, st.project(key), true
}

// Event and ReadEvent carry a projection between nodes.
func (w *Writer) Event(e MessageEvent) { e.marshal(&w.e) }

// ReadEvent reads what Writer.Event wrote.
func (r *Reader) ReadEvent() (e MessageEvent) { e.unmarshal(&r.d); return e }
