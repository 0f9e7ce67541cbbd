package http

import (
	"encoding/json"
	nethttp "net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/jindou-im/jindou/node"
)

// WuKongIM v2.2.5's offline CMD messages (/message/sync, /message/syncack:
// the queue of sync_once messages) and message events (/message/event,
// /message/eventsync: the streaming replies AI bots append to a message).
func (s *Server) syncRoutes() {
	e := s.e
	e.POST("/message/sync", s.syncOncePull)
	e.POST("/message/syncack", s.syncOnceAck)
	e.POST("/message/event", s.eventAppend)
	e.POST("/message/eventsync", s.eventSync)
	e.POST("/tmpchannel/subscriber_set", s.tmpSubscriberSet) // routes_tmpchannel.go
}

// syncOncePull is POST /message/sync {uid, message_seq, limit}: a JSON
// array of the user's queued sync_once messages (message_seq is accepted
// and unused, as in WuKongIM).
func (s *Server) syncOncePull(c echo.Context) error {
	var req struct {
		UID        string `json:"uid"`
		MessageSeq uint64 `json:"message_seq"`
		Limit      int    `json:"limit"`
	}
	if err := decode(c, &req); err != nil {
		return err
	}
	if strings.TrimSpace(req.UID) == "" {
		return required("uid")
	}
	if req.Limit < 0 {
		return badRequest("limit", "must not be negative")
	}
	msgs, err := callAs[[]*node.Message](s, c, node.SyncOncePull{UID: req.UID, Limit: req.Limit})
	if err != nil {
		return err
	}
	return c.JSON(nethttp.StatusOK, viewMessages(msgs, req.UID))
}

// syncOnceAck is POST /message/syncack {uid, last_message_seq}.
func (s *Server) syncOnceAck(c echo.Context) error {
	var req struct {
		UID            string `json:"uid"`
		LastMessageSeq uint64 `json:"last_message_seq"`
	}
	if err := decode(c, &req); err != nil {
		return err
	}
	switch {
	case strings.TrimSpace(req.UID) == "":
		return required("uid")
	case req.LastMessageSeq == 0:
		return badRequest("last_message_seq", "required (must not be 0)")
	}
	return s.run(c, node.SyncOnceAck{UID: req.UID, LastMessageSeq: req.LastMessageSeq})
}

// eventAppend is POST /message/event {channel_id, channel_type, from_uid,
// client_msg_no, event_id, event_type, event_key, visibility,
// occurred_at, payload (any JSON), headers}; it answers
// {"status":200,"data":{client_msg_no, event_key, event_id,
// msg_event_seq, stream_status, channel_id, channel_type, from_uid}}.
// Headers are accepted and not kept (WuKongIM's event sync does not
// return them either).
func (s *Server) eventAppend(c echo.Context) error {
	var req struct {
		ChannelID   string            `json:"channel_id"`
		ChannelType uint8             `json:"channel_type"`
		FromUID     string            `json:"from_uid"`
		MessageID   int64             `json:"message_id"`
		ClientMsgNo string            `json:"client_msg_no"`
		EventID     string            `json:"event_id"`
		EventType   string            `json:"event_type"`
		EventKey    string            `json:"event_key"`
		Visibility  string            `json:"visibility"`
		OccurredAt  int64             `json:"occurred_at"`
		Payload     json.RawMessage   `json:"payload"`
		Headers     map[string]string `json:"headers"`
	}
	if err := decode(c, &req); err != nil {
		return err
	}
	ch, err := channelKey(req.ChannelID, req.ChannelType)
	if err != nil {
		return err
	}
	for _, f := range [][2]string{{"client_msg_no", req.ClientMsgNo}, {"event_id", req.EventID}, {"event_type", req.EventType}} {
		if strings.TrimSpace(f[1]) == "" {
			return required(f[0])
		}
	}
	var payload []byte
	if len(req.Payload) > 0 && string(req.Payload) != "null" {
		payload = req.Payload
	}
	reply, err := callAs[node.EventAppendReply](s, c, node.EventAppend{Channel: ch, FromUID: req.FromUID,
		ClientMsgNo: req.ClientMsgNo, EventID: req.EventID, EventType: req.EventType, EventKey: req.EventKey,
		Visibility: req.Visibility, OccurredAt: req.OccurredAt, Payload: payload})
	if err != nil {
		return err
	}
	return okData(c, reply)
}

// eventJSON is one event of an event sync's answer.
type eventJSON struct {
	MsgEventSeq uint64 `json:"msg_event_seq"`
	EventID     string `json:"event_id"`
	EventKey    string `json:"event_key"`
	EventType   string `json:"event_type"`
	Visibility  string `json:"visibility"`
	OccurredAt  int64  `json:"occurred_at"`
	Payload     any    `json:"payload,omitempty"`
}

// eventSync is POST /message/eventsync {channel_id, channel_type,
// from_uid, client_msg_no, event_key, from_msg_event_seq, limit,
// include_private}; it answers {"status":200,"data":{client_msg_no,
// from_msg_event_seq, next_msg_event_seq, more, events,
// filtered_by_event_key}}.
func (s *Server) eventSync(c echo.Context) error {
	var req struct {
		ChannelID       string `json:"channel_id"`
		ChannelType     uint8  `json:"channel_type"`
		FromUID         string `json:"from_uid"`
		ClientMsgNo     string `json:"client_msg_no"`
		EventKey        string `json:"event_key"`
		FromMsgEventSeq uint64 `json:"from_msg_event_seq"`
		Limit           int    `json:"limit"`
		IncludePrivate  flag   `json:"include_private"`
	}
	if err := decode(c, &req); err != nil {
		return err
	}
	ch, err := channelKey(req.ChannelID, req.ChannelType)
	if err != nil {
		return err
	}
	if strings.TrimSpace(req.ClientMsgNo) == "" {
		return required("client_msg_no")
	}
	if req.Limit < 0 {
		return badRequest("limit", "must not be negative")
	}
	reply, err := callAs[node.EventSyncReply](s, c, node.EventSync{Channel: ch, FromUID: req.FromUID,
		ClientMsgNo: req.ClientMsgNo, EventKey: req.EventKey, FromSeq: req.FromMsgEventSeq, Limit: req.Limit,
		IncludePrivate: bool(req.IncludePrivate)})
	if err != nil {
		return err
	}
	events := make([]eventJSON, 0, len(reply.Events))
	for _, e := range reply.Events {
		v := eventJSON{MsgEventSeq: e.Seq, EventID: e.EventID, EventKey: e.EventKey, EventType: e.EventType,
			Visibility: e.Visibility, OccurredAt: e.OccurredAt}
		if len(e.Payload) > 0 {
			// As WuKongIM: a JSON payload as its value, anything else as a string.
			var p any
			if json.Unmarshal(e.Payload, &p) == nil {
				v.Payload = p
			} else {
				v.Payload = string(e.Payload)
			}
		}
		events = append(events, v)
	}
	return okData(c, map[string]any{
		"client_msg_no": req.ClientMsgNo, "from_msg_event_seq": req.FromMsgEventSeq,
		"next_msg_event_seq": reply.NextSeq, "more": b2i(reply.More), "events": events,
		"filtered_by_event_key": req.EventKey,
	})
}

func b2i(v bool) int {
	if v {
		return 1
	}
	return 0
}
