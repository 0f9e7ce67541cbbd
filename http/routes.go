package http

import (
	"crypto/rand"
	"encoding/hex"
	nethttp "net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/node/proto"
)

func (s *Server) routes() {
	e := s.e
	// Users and connections.
	e.POST("/user/token", s.userToken)
	e.POST("/user/device_quit", s.deviceQuit)
	e.POST("/user/onlinestatus", s.onlineStatus)
	e.POST("/user/systemuids_add", s.systemUIDs("add"))
	e.POST("/user/systemuids_remove", s.systemUIDs("remove"))
	e.GET("/user/systemuids", s.systemUIDsGet)

	// Channels.
	e.POST("/channel", s.channelUpsert)
	e.POST("/channel/info", s.channelInfo)
	e.POST("/channel/delete", s.channelDelete)
	e.POST("/channel/subscriber_add", s.subscribers(false))
	e.POST("/channel/subscriber_remove", s.subscribers(true))
	e.GET("/channel/subscribers", s.subscriberList) // routes_subscribers.go
	for _, list := range []string{"blacklist", "whitelist"} {
		for _, op := range []string{"add", "set", "remove", "remove_all"} {
			e.POST("/channel/"+list+"_"+op, s.listUpdate(list, op))
		}
		e.GET("/channel/"+list, s.listGet(list))
	}

	// Messages.
	e.POST("/message/send", s.send)
	e.POST("/message/sendbatch", s.sendBatch)
	e.POST("/channel/messagesync", s.messageSync)
	e.GET("/channel/max_message_seq", s.maxSeq)
	e.POST("/messages", s.messagesBySeq)

	// Conversations.
	e.POST("/conversation/sync", s.conversationSync)
	e.POST("/conversations/clearUnread", s.conversationUpdate("clear"))
	e.POST("/conversations/setUnread", s.conversationUpdate("set_unread"))
	e.POST("/conversations/delete", s.conversationUpdate("delete"))

	// Operations.
	e.GET("/healthz", s.health)
	e.GET("/health", s.health)
	e.GET("/readyz", s.readyz)
	e.GET("/varz", s.varz)
	e.GET("/connz", s.connz)
	e.GET("/route", s.route)
	e.GET("/metrics", s.metrics)
	// Go's profiler (Ops.Pprof), the admin page and the chat demo.
	s.pprofRoutes()
	s.webRoutes()

	s.connRoutes()
	s.messageRoutes()
	s.syncRoutes() // routes_messages3.go
	s.conversationRoutes()
	s.unsupportedRoutes()
	s.clusterRoutes()
}

// run calls a command whose reply is nil and answers {"status":200}.
func (s *Server) run(c echo.Context, req node.Request) error {
	if _, err := s.call(c.Request().Context(), req); err != nil {
		return err
	}
	return ok(c)
}

// Users and connections.

func (s *Server) userToken(c echo.Context) error {
	var req struct {
		UID         string `json:"uid"`
		Token       string `json:"token"`
		DeviceFlag  uint8  `json:"device_flag"`
		DeviceLevel uint8  `json:"device_level"`
	}
	if err := decode(c, &req); err != nil {
		return err
	}
	switch {
	case strings.TrimSpace(req.UID) == "":
		return required("uid")
	case req.Token == "":
		return required("token")
	case req.DeviceLevel > uint8(proto.DeviceMaster):
		return badRequest("device_level", "must be 0 (slave) or 1 (master)")
	}
	return s.run(c, node.UserToken{UID: req.UID, Token: req.Token, DeviceFlag: req.DeviceFlag, DeviceLevel: req.DeviceLevel})
}

func (s *Server) deviceQuit(c echo.Context) error {
	var req struct {
		UID        string `json:"uid"`
		DeviceFlag int    `json:"device_flag"`
	}
	if err := decode(c, &req); err != nil {
		return err
	}
	if strings.TrimSpace(req.UID) == "" {
		return required("uid")
	}
	if req.DeviceFlag < -1 || req.DeviceFlag > 255 {
		return badRequest("device_flag", "must be -1 (all) or a device flag 0..255")
	}
	return s.run(c, node.DeviceQuit{UID: req.UID, DeviceFlag: req.DeviceFlag})
}

func (s *Server) onlineStatus(c echo.Context) error {
	var uids []string
	if err := decode(c, &uids); err != nil {
		return err
	}
	conns, err := callAs[[]node.OnlineConn](s, c, node.OnlineStatus{UIDs: uids})
	if err != nil {
		return err
	}
	return c.JSON(nethttp.StatusOK, conns)
}

func (s *Server) systemUIDs(op string) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req struct {
			UIDs []string `json:"uids"`
		}
		if err := decode(c, &req); err != nil {
			return err
		}
		if len(req.UIDs) == 0 {
			return ok(c) // as WuKongIM: nothing to do
		}
		return s.run(c, node.SystemUIDs{Op: op, UIDs: req.UIDs})
	}
}

func (s *Server) systemUIDsGet(c echo.Context) error {
	uids, err := callAs[[]string](s, c, node.SystemUIDs{})
	if err != nil {
		return err
	}
	return c.JSON(nethttp.StatusOK, uids)
}

// Channels.

// channelInfoReq is the body of /channel and /channel/info (which ignores
// reset and subscribers). Not embedded anywhere: encoding/json would name
// the embedded type in a type error's field path.
type channelInfoReq struct {
	ChannelID     string   `json:"channel_id"`
	ChannelType   uint8    `json:"channel_type"`
	Large         flag     `json:"large"`
	Ban           flag     `json:"ban"`
	Disband       flag     `json:"disband"`
	SendBan       flag     `json:"send_ban"`
	AllowStranger flag     `json:"allow_stranger"`
	Reset         flag     `json:"reset"`
	Subscribers   []string `json:"subscribers"`
}

func (r channelInfoReq) channel() (node.ChannelKey, error) {
	return channelKey(r.ChannelID, r.ChannelType)
}

func (r channelInfoReq) info() node.ChannelInfo {
	return node.ChannelInfo{Large: bool(r.Large), Ban: bool(r.Ban), Disband: bool(r.Disband),
		SendBan: bool(r.SendBan), AllowStranger: bool(r.AllowStranger)}
}

// channelKey checks a channel named directly (a person channel by a uid).
func channelKey(id string, typ uint8) (node.ChannelKey, error) {
	if strings.TrimSpace(id) == "" {
		return node.ChannelKey{}, required("channel_id")
	}
	t, err := channelType(typ)
	if err != nil {
		return node.ChannelKey{}, err
	}
	return node.ChannelKey{Type: t, ID: id}, nil
}

func (s *Server) channelUpsert(c echo.Context) error {
	var req channelInfoReq
	if err := decode(c, &req); err != nil {
		return err
	}
	ch, err := req.channel()
	if err != nil {
		return err
	}
	return s.run(c, node.ChannelUpsert{Channel: ch, Info: req.info(), Reset: bool(req.Reset), Subscribers: req.Subscribers})
}

func (s *Server) channelInfo(c echo.Context) error {
	var req channelInfoReq
	if err := decode(c, &req); err != nil {
		return err
	}
	ch, err := req.channel()
	if err != nil {
		return err
	}
	return s.run(c, node.ChannelInfoUpdate{Channel: ch, Info: req.info()})
}

func (s *Server) channelDelete(c echo.Context) error {
	return s.runForChannel(c, func(ch node.ChannelKey) node.Request { return node.ChannelDelete{Channel: ch} })
}

// runForChannel decodes a body naming a channel (channel_id and
// channel_type) and runs the request made for it.
func (s *Server) runForChannel(c echo.Context, request func(node.ChannelKey) node.Request) error {
	var req struct {
		ChannelID   string `json:"channel_id"`
		ChannelType uint8  `json:"channel_type"`
	}
	if err := decode(c, &req); err != nil {
		return err
	}
	ch, err := channelKey(req.ChannelID, req.ChannelType)
	if err != nil {
		return err
	}
	return s.run(c, request(ch))
}

func (s *Server) subscribers(remove bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req struct {
			ChannelID      string   `json:"channel_id"`
			ChannelType    uint8    `json:"channel_type"`
			Reset          flag     `json:"reset"`
			TempSubscriber flag     `json:"temp_subscriber"`
			Subscribers    []string `json:"subscribers"`
		}
		if err := decode(c, &req); err != nil {
			return err
		}
		if req.ChannelType == 0 && !remove {
			req.ChannelType = uint8(proto.ChannelGroup) // WuKongIM's default for subscriber_add
		}
		ch, err := channelKey(req.ChannelID, req.ChannelType)
		if err != nil {
			return err
		}
		if req.TempSubscriber {
			return badRequest("temp_subscriber", "temporary subscribers are not supported")
		}
		if !nonEmpty(req.Subscribers) {
			return required("subscribers")
		}
		return s.run(c, node.Subscribers{Channel: ch, Remove: remove, Reset: bool(req.Reset), Subscribers: req.Subscribers})
	}
}

func (s *Server) listUpdate(list, op string) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req struct {
			ChannelID   string   `json:"channel_id"`
			ChannelType uint8    `json:"channel_type"`
			UIDs        []string `json:"uids"`
		}
		if err := decode(c, &req); err != nil {
			return err
		}
		ch, err := channelKey(req.ChannelID, req.ChannelType)
		if err != nil {
			return err
		}
		if (op == "add" || op == "remove") && !nonEmpty(req.UIDs) {
			return required("uids")
		}
		return s.run(c, node.ListUpdate{Channel: ch, List: list, Op: op, UIDs: req.UIDs})
	}
}

func (s *Server) listGet(list string) echo.HandlerFunc {
	return func(c echo.Context) error {
		ch, err := queryChannel(c)
		if err != nil {
			return err
		}
		uids, err := callAs[[]string](s, c, node.ListGet{Channel: ch, List: list})
		if err != nil {
			return err
		}
		return c.JSON(nethttp.StatusOK, uids)
	}
}

// Messages.

// newClientMsgNo makes a client_msg_no for a send without one, as WuKongIM
// does (a UUID's 32 hex digits and "0").
func newClientMsgNo() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:]) + "0"
}

func (s *Server) send(c echo.Context) error {
	start := time.Now()
	var req struct {
		Header      header   `json:"header"`
		ClientMsgNo string   `json:"client_msg_no"`
		FromUID     string   `json:"from_uid"`
		ChannelID   string   `json:"channel_id"`
		ChannelType uint8    `json:"channel_type"`
		Expire      uint32   `json:"expire"`
		Subscribers []string `json:"subscribers"`
		Payload     string   `json:"payload"`
	}
	if err := decode(c, &req); err != nil {
		return err
	}
	payload, err := decodePayload("payload", req.Payload)
	if err != nil {
		return err
	}
	msg := node.SendMessage{
		Header:      node.Header{NoPersist: bool(req.Header.NoPersist), RedDot: bool(req.Header.RedDot), SyncOnce: bool(req.Header.SyncOnce)},
		ClientMsgNo: req.ClientMsgNo, FromUID: req.FromUID, Expire: req.Expire, Payload: payload,
	}
	switch {
	case strings.TrimSpace(req.ChannelID) != "" && len(req.Subscribers) > 0:
		return badRequest("subscribers", "must be empty when channel_id is given (subscribers without channel_id send a person message to each)")
	case strings.TrimSpace(req.ChannelID) != "":
		if msg.Channel, err = channelKey(req.ChannelID, req.ChannelType); err != nil {
			return err
		}
	case nonEmpty(req.Subscribers):
		msg.Subscribers = req.Subscribers
	default:
		return badRequest("channel_id", "required (or subscribers, for a person message to each)")
	}
	if strings.TrimSpace(msg.ClientMsgNo) == "" {
		msg.ClientMsgNo = newClientMsgNo()
	}
	reply, err := callAs[node.SendReply](s, c, msg)
	if err != nil {
		return err
	}
	s.sendLatency.Observe(time.Since(start).Seconds())
	return okData(c, reply)
}

func (s *Server) sendBatch(c echo.Context) error {
	var req struct {
		Header      header   `json:"header"`
		FromUID     string   `json:"from_uid"`
		Subscribers []string `json:"subscribers"`
		Payload     string   `json:"payload"`
	}
	if err := decode(c, &req); err != nil {
		return err
	}
	if strings.TrimSpace(req.FromUID) == "" {
		return required("from_uid")
	}
	if !nonEmpty(req.Subscribers) {
		return required("subscribers")
	}
	payload, err := decodePayload("payload", req.Payload)
	if err != nil {
		return err
	}
	reply, err := callAs[node.SendBatchReply](s, c, node.SendBatch{
		Header:  node.Header{NoPersist: bool(req.Header.NoPersist), RedDot: bool(req.Header.RedDot), SyncOnce: bool(req.Header.SyncOnce)},
		FromUID: req.FromUID, Subscribers: req.Subscribers, Payload: payload,
	})
	if err != nil {
		return err
	}
	return c.JSON(nethttp.StatusOK, reply)
}

func (s *Server) messageSync(c echo.Context) error {
	var req struct {
		LoginUID        string `json:"login_uid"`
		ChannelID       string `json:"channel_id"`
		ChannelType     uint8  `json:"channel_type"`
		StartMessageSeq uint64 `json:"start_message_seq"`
		EndMessageSeq   uint64 `json:"end_message_seq"`
		Limit           int    `json:"limit"`
		PullMode        int    `json:"pull_mode"`
	}
	if err := decode(c, &req); err != nil {
		return err
	}
	if strings.TrimSpace(req.LoginUID) == "" {
		return required("login_uid")
	}
	ch, err := channelKey(req.ChannelID, req.ChannelType)
	if err != nil {
		return err
	}
	if req.Limit < 0 {
		return badRequest("limit", "must not be negative")
	}
	reply, err := callAs[node.SyncReply](s, c, node.MessageSync{LoginUID: req.LoginUID, Channel: ch,
		Start: req.StartMessageSeq, End: req.EndMessageSeq, Limit: req.Limit, PullMode: req.PullMode})
	if err != nil {
		return err
	}
	return c.JSON(nethttp.StatusOK, syncJSON{StartMessageSeq: reply.Start, EndMessageSeq: reply.End,
		More: reply.More, Messages: viewMessages(reply.Messages, req.LoginUID)})
}

func (s *Server) maxSeq(c echo.Context) error {
	ch, err := queryChannel(c)
	if err != nil {
		return err
	}
	seq, err := callAs[uint64](s, c, node.MaxSeq{LoginUID: c.QueryParam("login_uid"), Channel: ch})
	if err != nil {
		return err
	}
	return c.JSON(nethttp.StatusOK, map[string]uint64{"message_seq": seq})
}

func (s *Server) messagesBySeq(c echo.Context) error {
	var req struct {
		LoginUID    string   `json:"login_uid"`
		ChannelID   string   `json:"channel_id"`
		ChannelType uint8    `json:"channel_type"`
		MessageSeqs []uint64 `json:"message_seqs"`
	}
	if err := decode(c, &req); err != nil {
		return err
	}
	ch, err := channelKey(req.ChannelID, req.ChannelType)
	if err != nil {
		return err
	}
	msgs, err := callAs[[]*node.Message](s, c, node.MessagesBySeq{LoginUID: req.LoginUID, Channel: ch, Seqs: req.MessageSeqs})
	if err != nil {
		return err
	}
	return c.JSON(nethttp.StatusOK, viewMessages(msgs, req.LoginUID))
}

// Conversations.

func (s *Server) conversationSync(c echo.Context) error {
	var req struct {
		UID                 string  `json:"uid"`
		Version             int64   `json:"version"`
		LastMsgSeqs         string  `json:"last_msg_seqs"`
		MsgCount            int     `json:"msg_count"`
		OnlyUnread          flag    `json:"only_unread"`
		ExcludeChannelTypes []uint8 `json:"exclude_channel_types"`
		Page                int     `json:"page"`
		PageSize            int     `json:"page_size"`
	}
	if err := decode(c, &req); err != nil {
		return err
	}
	if strings.TrimSpace(req.UID) == "" {
		return required("uid")
	}
	if req.MsgCount < 0 {
		return badRequest("msg_count", "must not be negative")
	}
	known, err := parseLastMsgSeqs(req.LastMsgSeqs)
	if err != nil {
		return err
	}
	exclude := make([]proto.ChannelType, 0, len(req.ExcludeChannelTypes))
	for _, t := range req.ExcludeChannelTypes {
		exclude = append(exclude, proto.ChannelType(t))
	}
	// As WuKongIM: a version or only_unread asks for the conversations
	// with messages past the read cursor, and their recents from there.
	unreadOnly := bool(req.OnlyUnread) || req.Version > 0
	convs, err := callAs[[]node.Conversation](s, c, node.ConversationSync{UID: req.UID, MsgCount: req.MsgCount,
		OnlyUnread: unreadOnly, ExcludeTypes: exclude})
	if err != nil {
		return err
	}
	out := make([]conversationJSON, 0, len(convs))
	for _, conv := range convs {
		v := viewConversation(conv, req.UID)
		floor := uint64(0) // recents above floor
		if seq, ok := known[channelRef{v.ChannelID, v.ChannelType}]; ok {
			if seq >= v.LastMsgSeq {
				continue // the client is up to date
			}
			floor = seq
		} else if unreadOnly {
			floor = v.ReadedToMsgSeq
		}
		v.Recents = slices.DeleteFunc(v.Recents, func(m messageJSON) bool { return m.MessageSeq <= floor })
		out = append(out, v)
	}
	if req.Page > 0 {
		size := req.PageSize
		if size <= 0 {
			size = 100
		}
		size = min(size, 500)
		lo := min((req.Page-1)*size, len(out))
		out = out[lo:min(lo+size, len(out))]
	}
	return c.JSON(nethttp.StatusOK, out)
}

// channelRef is a channel as the client names it.
type channelRef struct {
	id  string
	typ uint8
}

// parseLastMsgSeqs parses "channelID:channelType:seq|..." (the client's
// last seq per conversation).
func parseLastMsgSeqs(s string) (map[channelRef]uint64, error) {
	out := map[channelRef]uint64{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for _, item := range strings.Split(s, "|") {
		if item == "" {
			continue
		}
		// channel ids may hold ':'; the type and seq are the last two parts.
		i := strings.LastIndexByte(item, ':')
		j := -1
		if i > 0 {
			j = strings.LastIndexByte(item[:i], ':')
		}
		if j <= 0 {
			return nil, badRequest("last_msg_seqs", "entry %q is not channelID:channelType:seq", item)
		}
		typ, err1 := strconv.ParseUint(item[j+1:i], 10, 8)
		seq, err2 := strconv.ParseUint(item[i+1:], 10, 64)
		if err1 != nil || err2 != nil {
			return nil, badRequest("last_msg_seqs", "entry %q is not channelID:channelType:seq", item)
		}
		out[channelRef{item[:j], uint8(typ)}] = seq
	}
	return out, nil
}

func (s *Server) conversationUpdate(op string) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req struct {
			UID         string `json:"uid"`
			ChannelID   string `json:"channel_id"`
			ChannelType uint8  `json:"channel_type"`
			MessageSeq  uint64 `json:"message_seq"`
			Unread      int64  `json:"unread"`
		}
		if err := decode(c, &req); err != nil {
			return err
		}
		if strings.TrimSpace(req.UID) == "" {
			return required("uid")
		}
		if req.Unread < 0 {
			return badRequest("unread", "must not be negative, got %d", req.Unread)
		}
		ch, err := channelKey(req.ChannelID, req.ChannelType)
		if err != nil {
			return err
		}
		return s.run(c, node.ConversationUpdate{UID: req.UID, Channel: ch, Op: op, Seq: req.MessageSeq,
			Unread: uint64(req.Unread)})
	}
}
