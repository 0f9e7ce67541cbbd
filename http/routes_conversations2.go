package http

import (
	nethttp "net/http"
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
