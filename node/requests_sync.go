package node

import (
	"cmp"
	"slices"
	"strings"

	"github.com/cockroachdb/pebble/v2"

	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/node/state"
)

// The sync_once queue (POST /message/sync, /message/syncack) and message
// events (POST /message/event, /message/eventsync); the state they read
// and change is node/state's syncqueue.go and events.go.

// Limits of these requests.
const (
	// syncOnceDefaultLimit is /message/sync's limit when it names none
	// (WuKongIM's); maxSyncOnceLimit bounds the limit it may name.
	syncOnceDefaultLimit = 200
	maxSyncOnceLimit     = 10_000
	// maxSyncMarks bounds how many users' last sync the API loop
	// remembers for their syncack; past it the oldest is forgotten (that
	// user's syncack then acknowledges nothing, and the next sync answers
	// the same messages again).
	maxSyncMarks = 65_536
	// eventSyncDefaultLimit and maxEventSyncLimit are /message/eventsync's
	// (WuKongIM's: 200, at most 2000).
	eventSyncDefaultLimit = 200
	maxEventSyncLimit     = 2000
)

// SyncOncePull answers a user's queued sync_once messages, oldest first,
// at most Limit (POST /message/sync). The node remembers, per channel, the
// last seq it answered, for the user's next SyncOnceAck. Reply:
// []*Message.
type SyncOncePull struct {
	UID   string
	Limit int
}

// SyncOnceAck drops from the user's queue what the user's last
// SyncOncePull on this node answered (POST /message/syncack; as in
// WuKongIM, last_message_seq must be set but what is dropped is what the
// last sync answered). Reply: nil.
type SyncOnceAck struct {
	UID            string
	LastMessageSeq uint64
}

// syncMark is the last seq of one channel that a user's sync answered.
type syncMark struct {
	Ch  state.ChannelKey
	Seq uint64
}

// syncMarks are the users' last syncs, the oldest forgotten first.
type syncMarks struct {
	byUID map[string][]syncMark
	order []string // uids, in the order their marks were set
}

func (s *syncMarks) set(uid string, marks []syncMark) {
	if _, ok := s.byUID[uid]; !ok {
		s.order = append(s.order, uid)
	}
	s.byUID[uid] = marks
	for len(s.byUID) > maxSyncMarks {
		delete(s.byUID, s.order[0])
		s.order = s.order[1:]
	}
}

func (s *syncMarks) take(uid string) []syncMark {
	marks := s.byUID[uid]
	if marks != nil {
		delete(s.byUID, uid)
		s.order = slices.DeleteFunc(s.order, func(u string) bool { return u == uid })
	}
	return marks
}

func (a *apiLoop) marks() *syncMarks {
	if a.syncMarks == nil {
		a.syncMarks = &syncMarks{byUID: map[string][]syncMark{}}
	}
	return a.syncMarks
}

// querySyncQueue reads a user's queued sync_once messages in one slot.
// Result: messagesResult.
type querySyncQueue struct {
	UID   string
	Limit int
}

func (querySyncQueue) isSlotQuery() {}

func (r SyncOncePull) run(a *apiLoop, done func(any, error)) error {
	if err := checkUID("uid", r.UID); err != nil {
		return err
	}
	if r.Limit < 0 {
		return &BadRequest{Field: "limit", Msg: "must not be negative"}
	}
	limit := r.Limit
	if limit == 0 {
		limit = syncOnceDefaultLimit
	}
	limit = min(limit, maxSyncOnceLimit)
	a.gatherSlots(querySyncQueue{UID: r.UID, Limit: limit}, func(parts []readResult, err error) {
		if err != nil {
			done(nil, err)
			return
		}
		var msgs []*Message
		for _, p := range parts {
			msgs = append(msgs, p.(messagesResult)...)
		}
		// Ids increase with seq within a channel: the first limit by id
		// hold a prefix of each channel's queue, which the marks cover.
		slices.SortFunc(msgs, func(x, y *Message) int { return cmp.Compare(x.MessageID, y.MessageID) })
		msgs = msgs[:min(len(msgs), limit)]
		a.marks().set(r.UID, marksOf(msgs))
		done(orEmptyMessages(msgs), nil)
	})
	return nil
}

// marksOf is each channel's last seq among msgs, channels in the order
// they first appear.
func marksOf(msgs []*Message) []syncMark {
	var marks []syncMark
	for _, m := range msgs {
		i := slices.IndexFunc(marks, func(k syncMark) bool { return k.Ch == m.Channel })
		if i < 0 {
			marks = append(marks, syncMark{Ch: m.Channel, Seq: m.Seq})
			continue
		}
		marks[i].Seq = max(marks[i].Seq, m.Seq)
	}
	return marks
}

func orEmptyMessages(msgs []*Message) []*Message {
	if msgs == nil {
		return []*Message{}
	}
	return msgs
}

func (r SyncOnceAck) run(a *apiLoop, done func(any, error)) error {
	if err := checkUID("uid", r.UID); err != nil {
		return err
	}
	if r.LastMessageSeq == 0 {
		return &BadRequest{Field: "last_message_seq", Msg: "required (must not be 0)"}
	}
	marks := a.marks().take(r.UID)
	left, failed := len(marks), false
	if left == 0 {
		done(nil, nil)
		return nil
	}
	for _, m := range marks {
		cmd := &state.Command{Op: state.OpSyncAck, UID: r.UID, Ch: m.Ch, Seq: m.Seq}
		a.propose(state.SlotOfChannel(m.Ch, a.n.cfg.Slots), cmd, func(err error) {
			switch {
			case failed:
			case err != nil:
				failed = true
				done(nil, err)
			default:
				if left--; left == 0 {
					done(nil, nil)
				}
			}
		})
	}
	return nil
}

// Message events.

// EventAppend appends an event to a message, named by its channel and
// client_msg_no (POST /message/event). An empty EventKey is "main"; a
// stream.finish event's key is "__finish__". Reply: EventAppendReply.
type EventAppend struct {
	Channel     ChannelKey
	FromUID     string
	ClientMsgNo string
	EventID     string
	EventType   string
	EventKey    string
	Visibility  string
	OccurredAt  int64
	Payload     []byte
}

// EventAppendReply is WuKongIM's answer to an event append.
type EventAppendReply struct {
	ClientMsgNo  string `json:"client_msg_no"`
	EventKey     string `json:"event_key"`
	EventID      string `json:"event_id"`
	MsgEventSeq  uint64 `json:"msg_event_seq"`
	StreamStatus string `json:"stream_status"`
	ChannelID    string `json:"channel_id"`
	ChannelType  uint8  `json:"channel_type"`
	FromUID      string `json:"from_uid"`
}

// EventSync lists a message's event keys whose last event is past
// FromSeq, each as its projection, in seq order (POST
// /message/eventsync). Reply: EventSyncReply.
type EventSync struct {
	Channel        ChannelKey
	FromUID        string
	ClientMsgNo    string
	EventKey       string
	FromSeq        uint64
	Limit          int
	IncludePrivate bool
}

// EventSyncReply is the answer to an EventSync; NextSeq is the last
// event's seq (FromSeq if there is none).
type EventSyncReply struct {
	Events  []state.MessageEvent
	NextSeq uint64
	More    bool
}

// queryEvents reads a message's event projections. Result: eventsResult.
type queryEvents struct {
	Ch          state.ChannelKey
	ClientMsgNo string
	From        uint64
	Key         string
}

// queryAppendedEvent reads what an event append left. Result:
// appendedResult.
type queryAppendedEvent struct {
	Ch                   state.ChannelKey
	ClientMsgNo, Key, ID string
}

type (
	eventsResult   []state.MessageEvent
	appendedResult struct {
		Seq   uint64
		Event state.MessageEvent
		OK    bool
	}
)

func (queryEvents) isSlotQuery()        {}
func (queryAppendedEvent) isSlotQuery() {}
func (eventsResult) isReadResult()      {}
func (appendedResult) isReadResult()    {}

// eventChannel is the channel an event request names: a person channel as
// seen by from (required unless the id names both users).
func eventChannel(from string, ch ChannelKey) (ChannelKey, error) {
	if err := checkChannel(ch); err != nil {
		return ChannelKey{}, err
	}
	if from != "" {
		if err := checkUID("from_uid", from); err != nil {
			return ChannelKey{}, err
		}
	}
	if ch.Type == proto.ChannelPerson {
		if _, _, ok := state.PersonUIDs(ch.ID); !ok && from == "" {
			return ChannelKey{}, &BadRequest{Field: "from_uid", Msg: "required for a person channel named by one uid"}
		}
	}
	return viewChannel(from, ch)
}

// checkEventText checks a text field of an event that becomes part of a
// key: required ones non-empty, none holding NUL.
func checkEventText(field, v string, required bool) error {
	switch {
	case required && strings.TrimSpace(v) == "":
		return &BadRequest{Field: field, Msg: "required"}
	case strings.ContainsRune(v, 0):
		return &BadRequest{Field: field, Msg: "must not contain NUL"}
	}
	return nil
}

func (r EventAppend) run(a *apiLoop, done func(any, error)) error {
	ch, err := eventChannel(r.FromUID, r.Channel)
	if err != nil {
		return err
	}
	for _, f := range []struct {
		name, v  string
		required bool
	}{{"client_msg_no", r.ClientMsgNo, true}, {"event_id", r.EventID, true}, {"event_type", r.EventType, true}, {"event_key", r.EventKey, false}} {
		if err := checkEventText(f.name, f.v, f.required); err != nil {
			return err
		}
	}
	ev := &state.EventCmd{ClientMsgNo: strings.TrimSpace(r.ClientMsgNo), EventID: strings.TrimSpace(r.EventID),
		EventKey: strings.TrimSpace(r.EventKey), EventType: strings.ToLower(strings.TrimSpace(r.EventType)),
		Visibility: r.Visibility, OccurredAt: r.OccurredAt, Payload: r.Payload}
	if ev.EventKey == "" {
		ev.EventKey = state.EventKeyDefault
	}
	if ev.EventType == state.EventStreamFinish {
		ev.EventKey = state.EventKeyFinish
	}
	at := a.wallMs()
	if ev.OccurredAt == 0 {
		ev.OccurredAt = at
	}
	from := r.FromUID
	if from == "" {
		from = SystemUID
	}
	slotID := state.SlotOfChannel(ch, a.n.cfg.Slots)
	cmd := &state.Command{Op: state.OpEvent, AtMs: at, Ch: ch, Event: ev}
	a.propose(slotID, cmd, func(err error) {
		if err != nil {
			done(nil, err)
			return
		}
		q := queryAppendedEvent{Ch: ch, ClientMsgNo: ev.ClientMsgNo, Key: ev.EventKey, ID: ev.EventID}
		a.read(slotID, q, func(res readResult, err error) {
			if err != nil {
				done(nil, err)
				return
			}
			got := res.(appendedResult)
			seq := got.Seq
			if seq == 0 {
				seq = got.Event.Seq // the key was over: its last event's
			}
			done(EventAppendReply{ClientMsgNo: ev.ClientMsgNo, EventKey: ev.EventKey, EventID: ev.EventID,
				MsgEventSeq: seq, StreamStatus: got.Event.Status, ChannelID: r.Channel.ID,
				ChannelType: uint8(r.Channel.Type), FromUID: from}, nil)
		})
	})
	return nil
}

func (r EventSync) run(a *apiLoop, done func(any, error)) error {
	ch, err := eventChannel(r.FromUID, r.Channel)
	if err != nil {
		return err
	}
	if err := checkEventText("client_msg_no", r.ClientMsgNo, true); err != nil {
		return err
	}
	if err := checkEventText("event_key", r.EventKey, false); err != nil {
		return err
	}
	if r.Limit < 0 {
		return &BadRequest{Field: "limit", Msg: "must not be negative"}
	}
	limit := r.Limit
	if limit == 0 {
		limit = eventSyncDefaultLimit
	}
	limit = min(limit, maxEventSyncLimit)
	q := queryEvents{Ch: ch, ClientMsgNo: strings.TrimSpace(r.ClientMsgNo), From: r.FromSeq, Key: strings.TrimSpace(r.EventKey)}
	a.read(state.SlotOfChannel(ch, a.n.cfg.Slots), q, func(res readResult, err error) {
		if err != nil {
			done(nil, err)
			return
		}
		evs := slices.DeleteFunc([]state.MessageEvent(res.(eventsResult)), func(e state.MessageEvent) bool {
			return !r.IncludePrivate && (e.Visibility == "private" || e.Visibility == "restricted")
		})
		out := EventSyncReply{Events: evs[:min(len(evs), limit)], More: len(evs) > limit, NextSeq: r.FromSeq}
		if len(out.Events) > 0 {
			out.NextSeq = out.Events[len(out.Events)-1].Seq
		}
		done(out, nil)
	})
	return nil
}

// readSyncQuery answers this file's queries of one slot; ok is false for
// another query.
func readSyncQuery(m *state.Machine, db pebble.Reader, q slotQuery) (res readResult, ok bool) {
	switch q := q.(type) {
	case querySyncQueue:
		return messagesResult(m.SyncQueue(db, q.UID, q.Limit)), true
	case queryEvents:
		return eventsResult(m.MessageEvents(db, q.Ch, q.ClientMsgNo, q.From, q.Key)), true
	case queryAppendedEvent:
		seq, ev, found := m.AppendedEvent(db, q.Ch, q.ClientMsgNo, q.Key, q.ID)
		return appendedResult{Seq: seq, Event: ev, OK: found}, true
	}
	return nil, false
}

// The peer encoding of this file's queries and results (peer_query.go
// hands over the kinds it does not know).
const (
	qSyncQueue byte = 64 + iota
	qEvents
	qAppendedEvent
)

const (
	rEvents byte = 64 + iota
	rAppended
)

func writeSyncQuery(w *state.Writer, q slotQuery) bool {
	switch q := q.(type) {
	case querySyncQueue:
		w.Byte(qSyncQueue)
		w.Str(q.UID)
		w.Int(int64(q.Limit))
	case queryEvents:
		w.Byte(qEvents)
		w.Channel(q.Ch)
		w.Str(q.ClientMsgNo)
		w.Uint(q.From)
		w.Str(q.Key)
	case queryAppendedEvent:
		w.Byte(qAppendedEvent)
		w.Channel(q.Ch)
		w.Str(q.ClientMsgNo)
		w.Str(q.Key)
		w.Str(q.ID)
	default:
		return false
	}
	return true
}

func readSyncQueryOf(kind byte, r *state.Reader) slotQuery {
	switch kind {
	case qSyncQueue:
		return querySyncQueue{UID: r.Str(), Limit: int(r.Int())}
	case qEvents:
		return queryEvents{Ch: r.Channel(), ClientMsgNo: r.Str(), From: r.Uint(), Key: r.Str()}
	case qAppendedEvent:
		return queryAppendedEvent{Ch: r.Channel(), ClientMsgNo: r.Str(), Key: r.Str(), ID: r.Str()}
	}
	return nil
}

func writeSyncResult(w *state.Writer, res readResult) bool {
	switch res := res.(type) {
	case eventsResult:
		w.Byte(rEvents)
		w.Uint(uint64(len(res)))
		for _, e := range res {
			w.Event(e)
		}
	case appendedResult:
		w.Byte(rAppended)
		w.Uint(res.Seq)
		w.Event(res.Event)
		w.Bool(res.OK)
	default:
		return false
	}
	return true
}

func readSyncResultOf(kind byte, r *state.Reader) readResult {
	switch kind {
	case rEvents:
		n := r.Count()
		out := eventsResult{}
		for range n {
			out = append(out, r.ReadEvent())
		}
		return out
	case rAppended:
		return appendedResult{Seq: r.Uint(), Event: r.ReadEvent(), OK: r.Bool()}
	}
	return nil
}
