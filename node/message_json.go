package node

import (
	"strconv"

	"github.com/jindou-im/jindou/node/state"
)

// MessageJSON is a stored message in WuKongIM's JSON shape
// (internal/types/message.go MessageResp), the one the HTTP API answers
// with and the webhooks POST: switches as 0/1 ints, the id also as a
// string, Topic left out when empty. A receiver deduplicates by
// message_id (or channel_id, channel_type and message_seq).
type MessageJSON struct {
	Header       HeaderJSON `json:"header"`
	Setting      uint8      `json:"setting"`
	MessageID    int64      `json:"message_id"`
	MessageIDStr string     `json:"message_idstr"`
	ClientMsgNo  string     `json:"client_msg_no"`
	MessageSeq   uint64     `json:"message_seq"`
	FromUID      string     `json:"from_uid"`
	ChannelID    string     `json:"channel_id"`
	ChannelType  uint8      `json:"channel_type"`
	Topic        string     `json:"topic,omitempty"`
	Expire       uint32     `json:"expire"`
	Timestamp    int32      `json:"timestamp"`
	Payload      []byte     `json:"payload"`
}

// HeaderJSON is a message header with 0/1 ints.
type HeaderJSON struct {
	NoPersist int `json:"no_persist"`
	RedDot    int `json:"red_dot"`
	SyncOnce  int `json:"sync_once"`
}

// ViewMessage shows m to viewer: a person channel is named by the other
// party. Without a viewer, the party other than the sender is shown (as
// WuKongIM does, to back ends).
func ViewMessage(m *state.Message, viewer string) MessageJSON {
	if viewer == "" {
		viewer = m.FromUID
	}
	payload := m.Payload
	if payload == nil {
		payload = []byte{}
	}
	return MessageJSON{
		Header:       HeaderJSON{NoPersist: b2i(m.Header.NoPersist), RedDot: b2i(m.Header.RedDot), SyncOnce: b2i(m.Header.SyncOnce)},
		Setting:      uint8(m.Setting),
		MessageID:    m.MessageID,
		MessageIDStr: strconv.FormatInt(m.MessageID, 10),
		ClientMsgNo:  m.ClientMsgNo,
		MessageSeq:   m.Seq,
		FromUID:      m.FromUID,
		ChannelID:    m.Channel.PeerOf(viewer),
		ChannelType:  uint8(m.Channel.Type),
		Topic:        m.Topic,
		Expire:       m.Expire,
		Timestamp:    m.Timestamp,
		Payload:      payload,
	}
}

// B2I is a switch as WuKongIM's JSON writes it: 1 or 0.
func B2I(b bool) int { return b2i(b) }

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
