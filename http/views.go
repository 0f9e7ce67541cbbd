package http

import (
	"strconv"

	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/node/proto"
)

// The JSON shapes of responses, as WuKongIM v2 writes them
// (internal/types/message.go MessageResp, internal/api/conversation_model.go
// syncUserConversationResp, internal/api/channel_model.go syncMessageResp).

// messageJSON is WuKongIM's MessageResp (the node's, which the webhooks
// POST too).
type messageJSON = node.MessageJSON

// viewMessage shows m to viewer (see node.ViewMessage).
func viewMessage(m *node.Message, viewer string) messageJSON { return node.ViewMessage(m, viewer) }

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
