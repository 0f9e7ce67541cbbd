package http

import (
	nethttp "net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/jindou-im/jindou/node"
)

// Conversation routes of WuKongIM v2.2.5 beside /conversation/sync.

// maxSyncByChannels bounds the channels of one /conversation/syncByChannels.
const maxSyncByChannels = 100

// defaultRecentCount is WuKongIM's msg_count when it is 0.
const defaultRecentCount = 15

func (s *Server) conversationRoutes() {
	s.e.POST("/conversation/channels", s.conversationChannels)
	s.e.POST("/conversation/syncByChannels", s.conversationSyncByChannels)
	s.e.POST("/conversation/syncMessages", s.conversationSyncMessages)
}

type channelRefJSON struct {
	ChannelID   string `json:"channel_id"`
	ChannelType uint8  `json:"channel_type"`
}

// conversationChannels is POST /conversation/channels {uid}: the channels
// of the user's conversations, most recent first, a person channel named
// by the peer (as /conversation/sync names it).
func (s *Server) conversationChannels(c echo.Context) error {
	var req struct {
		UID string `json:"uid"`
	}
	if err := decode(c, &req); err != nil {
		return err
	}
	if strings.TrimSpace(req.UID) == "" {
		return required("uid")
	}
	convs, err := callAs[[]node.Conversation](s, c, node.ConversationSync{UID: req.UID})
	if err != nil {
		return err
	}
	out := make([]channelRefJSON, 0, len(convs))
	for _, conv := range convs {
		out = append(out, channelRefJSON{ChannelID: conv.Channel.PeerOf(req.UID), ChannelType: uint8(conv.Channel.Type)})
	}
	return c.JSON(nethttp.StatusOK, out)
}

// conversationSyncByChannels is POST /conversation/syncByChannels {uid,
// channels: [{channel_id, channel_type}], msg_count}: /conversation/sync's
// entries for the channels named, in their order; a channel the user has
// no conversation in is listed with its recents and nothing read.
func (s *Server) conversationSyncByChannels(c echo.Context) error {
	var req struct {
		UID      string           `json:"uid"`
		Channels []channelRefJSON `json:"channels"`
		MsgCount int              `json:"msg_count"`
	}
	if err := decode(c, &req); err != nil {
		return err
	}
	switch {
	case strings.TrimSpace(req.UID) == "":
		return required("uid")
	case len(req.Channels) == 0:
		return required("channels")
	case len(req.Channels) > maxSyncByChannels:
		return badRequest("channels", "at most %d", maxSyncByChannels)
	case req.MsgCount < 0:
		return badRequest("msg_count", "must not be negative")
	}
	if req.MsgCount == 0 {
		req.MsgCount = defaultRecentCount
	}
	keys := make([]node.ChannelKey, len(req.Channels))
	for i, ref := range req.Channels {
		ch, err := channelKey(ref.ChannelID, ref.ChannelType)
		if err != nil {
			return prefixField(err, "channels")
		}
		keys[i] = ch
	}
	convs, err := callAs[[]node.Conversation](s, c, node.ConversationSync{UID: req.UID, MsgCount: req.MsgCount})
	if err != nil {
		return err
	}
	byRef := map[channelRefJSON]conversationJSON{}
	for _, conv := range convs {
		v := viewConversation(conv, req.UID)
		byRef[channelRefJSON{v.ChannelID, v.ChannelType}] = v
	}
	out := make([]conversationJSON, 0, len(keys))
	for i, ref := range req.Channels {
		if v, ok := byRef[ref]; ok {
			out = append(out, v)
			continue
		}
		v, err := s.unopenedConversation(c, req.UID, keys[i], req.MsgCount)
		if err != nil {
			return err
		}
		out = append(out, v)
	}
	return c.JSON(nethttp.StatusOK, out)
}

// unopenedConversation is the entry of a channel uid has no conversation
// in: its newest messages, all unread.
func (s *Server) unopenedConversation(c echo.Context, uid string, ch node.ChannelKey, count int) (conversationJSON, error) {
	reply, err := callAs[node.SyncReply](s, c, node.MessageSync{LoginUID: uid, Channel: ch, Limit: count})
	if err != nil {
		return conversationJSON{}, err
	}
	conv := node.Conversation{Channel: ch, Recents: reply.Messages}
	if n := len(reply.Messages); n > 0 {
		last := reply.Messages[n-1]
		conv.Channel, conv.LastMsgSeq, conv.LastClientMsgNo, conv.Timestamp = last.Channel, last.Seq, last.ClientMsgNo, last.Timestamp
		conv.Unread = last.Seq
	}
	return viewConversation(conv, uid), nil
}

// prefixField names a nested field: "channels.channel_id: ...".
func prefixField(err error, parent string) error {
	if ae, ok := err.(*apiError); ok {
		return &apiError{code: ae.code, msg: parent + "." + ae.msg}
	}
	return err
}

// maxRecentCount bounds msg_count of /conversation/syncMessages.
const maxRecentCount = 1000

// channelRecentJSON is one entry of /conversation/syncMessages.
// user_last_msg_seq (WuKongIM: the latest seq the user sent in the
// channel) is 0: Jindou does not track it.
type channelRecentJSON struct {
	ChannelID      string        `json:"channel_id"`
	ChannelType    uint8         `json:"channel_type"`
	Messages       []messageJSON `json:"messages"`
	UserLastMsgSeq uint64        `json:"user_last_msg_seq"`
}

// conversationSyncMessages is POST /conversation/syncMessages {uid,
// channels: [{channel_id, channel_type, last_msg_seq}], msg_count,
// order_by_last}: each channel's messages from last_msg_seq up (oldest
// first, at most msg_count), or with order_by_last 1 its newest msg_count
// messages at or above last_msg_seq, newest first, as WuKongIM's
// LoadMsgsBatch reads them.
func (s *Server) conversationSyncMessages(c echo.Context) error {
	var req struct {
		UID      string `json:"uid"`
		Channels []struct {
			ChannelID   string `json:"channel_id"`
			ChannelType uint8  `json:"channel_type"`
			LastMsgSeq  uint64 `json:"last_msg_seq"`
		} `json:"channels"`
		MsgCount    int  `json:"msg_count"`
		OrderByLast flag `json:"order_by_last"`
	}
	if err := decode(c, &req); err != nil {
		return err
	}
	switch {
	case strings.TrimSpace(req.UID) == "":
		return required("uid")
	case len(req.Channels) > maxSyncByChannels:
		return badRequest("channels", "at most %d", maxSyncByChannels)
	case req.MsgCount < 0 || req.MsgCount > maxRecentCount:
		return badRequest("msg_count", "must be 0 (15) to %d", maxRecentCount)
	}
	if req.MsgCount == 0 {
		req.MsgCount = defaultRecentCount
	}
	out := make([]channelRecentJSON, 0, len(req.Channels))
	for _, ref := range req.Channels {
		ch, err := channelKey(ref.ChannelID, ref.ChannelType)
		if err != nil {
			return prefixField(err, "channels")
		}
		q := node.MessageSync{LoginUID: req.UID, Channel: ch, Limit: req.MsgCount, PullMode: node.PullUp, Start: max(ref.LastMsgSeq, 1)}
		if req.OrderByLast {
			// The newest messages above last_msg_seq-1, i.e. from it on.
			q.PullMode, q.Start, q.End = node.PullDown, 0, max(ref.LastMsgSeq, 1)-1
		}
		reply, err := callAs[node.SyncReply](s, c, q)
		if err != nil {
			return err
		}
		msgs := viewMessages(reply.Messages, req.UID)
		if req.OrderByLast {
			slices.Reverse(msgs)
		}
		out = append(out, channelRecentJSON{ChannelID: ref.ChannelID, ChannelType: ref.ChannelType, Messages: msgs})
	}
	return c.JSON(nethttp.StatusOK, out)
}
