package http

import (
	"strconv"

	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/node/proto"
)

// The JSON shapes of responses, as WuKongIM v2 writes them
// (internal/types/message.go MessageResp, internal/api/conversation_model.go
// syncUserConversationResp, internal/api/channel_model.go syncMessageResp).

// headerJSON is a message header with 0/1 ints.
type headerJSON struct {
	NoPersist int `json:"no_persist"`
	RedDot    int `json:"red_dot"`
	SyncOnce  int `json:"sync_once"`
}

// messageJSON is WuKongIM's MessageResp (without the stream fields, which
// Jindou does not store). Topic is left out when empty, as WuKongIM does.
type messageJSON struct {
	Header       headerJSON `json:"header"`
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

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// viewMessage shows m to viewer: a person channel is named by the other
// party. Without a viewer, the party other than the sender is shown (as
// WuKongIM does).
func viewMessage(m *node.Message, viewer string) messageJSON {
	if viewer == "" {
		viewer = m.FromUID
	}
	payload := m.Payload
	if payload == nil {
		payload = []byte{}
	}
	return messageJSON{
		Header:       headerJSON{NoPersist: b2i(m.Header.NoPersist), RedDot: b2i(m.Header.RedDot), SyncOnce: b2i(m.Header.SyncOnce)},
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

func viewMessages(ms []*node.Message, viewer string) []messageJSON {
	out := make([]messageJSON, 0, len(ms))
	for _, m := range ms {
		out = append(out, viewMessage(m, viewer))
	}
	return out
}

// syncJSON is the /channel/messagesync response.
type syncJSON struct {
	StartMessageSeq uint64        `json:"start_message_seq"`
	EndMessageSeq   uint64        `json:"end_message_seq"`
	More            int           `json:"more"`
	Messages        []messageJSON `json:"messages"`
}

// conversationJSON is one entry of /conversation/sync.
//
// version is the last message's time in Unix nanoseconds, as WuKongIM
// computes it (time.Unix(lastMsg.Timestamp, 0).UnixNano()); offset_msg_seq
// is always 0; recents are newest first, as WuKongIM's (its
// resp.Recents[0] is the last message).
type conversationJSON struct {
	ChannelID       string        `json:"channel_id"`
	ChannelType     uint8         `json:"channel_type"`
	Unread          uint64        `json:"unread"`
	Timestamp       int64         `json:"timestamp"`
	LastMsgSeq      uint64        `json:"last_msg_seq"`
	LastClientMsgNo string        `json:"last_client_msg_no"`
	OffsetMsgSeq    int64         `json:"offset_msg_seq"`
	ReadedToMsgSeq  uint64        `json:"readed_to_msg_seq"`
	Version         int64         `json:"version"`
	Recents         []messageJSON `json:"recents"`
}

func viewConversation(c node.Conversation, uid string) conversationJSON {
	recents := make([]messageJSON, 0, len(c.Recents))
	for i := len(c.Recents) - 1; i >= 0; i-- {
		recents = append(recents, viewMessage(c.Recents[i], uid))
	}
	return conversationJSON{
		ChannelID:       c.Channel.PeerOf(uid),
		ChannelType:     uint8(c.Channel.Type),
		Unread:          c.Unread,
		Timestamp:       int64(c.Timestamp),
		LastMsgSeq:      c.LastMsgSeq,
		LastClientMsgNo: c.LastClientMsgNo,
		ReadedToMsgSeq:  c.ReadToMsgSeq,
		Version:         int64(c.Timestamp) * 1e9,
		Recents:         recents,
	}
}

// reasonNames names the reason codes a send can be refused with.
var reasonNames = map[proto.ReasonCode]string{
	proto.ReasonAuthFail:              "auth fail",
	proto.ReasonSubscriberNotExist:    "subscriber not exist",
	proto.ReasonInBlacklist:           "in blacklist",
	proto.ReasonChannelNotExist:       "channel not exist",
	proto.ReasonUserNotOnNode:         "user not on node",
	proto.ReasonSenderOffline:         "sender offline",
	proto.ReasonMsgKeyError:           "msg key error",
	proto.ReasonPayloadDecodeError:    "payload decode error",
	proto.ReasonNotAllowSend:          "not allow send",
	proto.ReasonNotInWhitelist:        "not in whitelist",
	proto.ReasonSystemError:           "system error",
	proto.ReasonChannelIDError:        "channel id error",
	proto.ReasonBan:                   "ban",
	proto.ReasonRateLimit:             "rate limit",
	proto.ReasonNotSupportChannelType: "not support channel type",
	proto.ReasonDisband:               "disband",
	proto.ReasonSendBan:               "send ban",
	proto.ReasonChannelDeleting:       "channel deleting",
	proto.ReasonIdempotencyConflict:   "idempotency conflict",
	proto.ReasonMessageSeqExhausted:   "message seq exhausted",
}

func reasonName(r proto.ReasonCode) string {
	if n, ok := reasonNames[r]; ok {
		return n
	}
	return "reason " + strconv.Itoa(int(r))
}
