package http

import (
	nethttp "net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/jindou-im/jindou/node"
)

// One-message reads of WuKongIM v2.2.5: by message id or client_msg_no,
// and a channel's last message. Each answers the Message object, or 404
// {"status":404,"msg":"message not found"}.
func (s *Server) messageRoutes() {
	e := s.e
	e.POST("/message", s.messageSearch)
	e.GET("/message/byclientmsgno", s.messageByClientMsgNo)
	e.GET("/channel/last_message", s.lastMessage)
}

var errMessageNotFound = &apiError{code: nethttp.StatusNotFound, msg: "message not found"}

// messageSearch is POST /message: {login_uid, channel_id, channel_type,
// message_id | client_msg_no}.
func (s *Server) messageSearch(c echo.Context) error {
	var req struct {
		LoginUID    string `json:"login_uid"`
		ChannelID   string `json:"channel_id"`
		ChannelType uint8  `json:"channel_type"`
		MessageID   int64  `json:"message_id"`
		ClientMsgNo string `json:"client_msg_no"`
	}
	if err := decode(c, &req); err != nil {
		return err
	}
	ch, err := channelKey(req.ChannelID, req.ChannelType)
	if err != nil {
		return err
	}
	if req.MessageID == 0 && strings.TrimSpace(req.ClientMsgNo) == "" {
		return badRequest("message_id", "message_id or client_msg_no is required")
	}
	return s.oneMessage(c, req.LoginUID, node.MessageLookup{LoginUID: req.LoginUID, Channel: ch,
		MessageID: req.MessageID, ClientMsgNo: req.ClientMsgNo})
}

// messageByClientMsgNo is GET /message/byclientmsgno?channel_id&
// channel_type&client_msg_no. A person channel is named, as in WuKongIM,
// by its stored id ("uid1@uid2"), or by the peer with login_uid.
func (s *Server) messageByClientMsgNo(c echo.Context) error {
	ch, err := queryChannel(c)
	if err != nil {
		return err
	}
	cmn := c.QueryParam("client_msg_no")
	if strings.TrimSpace(cmn) == "" {
		return required("client_msg_no")
	}
	login := c.QueryParam("login_uid")
	return s.oneMessage(c, login, node.MessageLookup{LoginUID: login, Channel: ch, ClientMsgNo: cmn})
}

// lastMessage is GET /channel/last_message?login_uid&channel_id&
// channel_type.
func (s *Server) lastMessage(c echo.Context) error {
	ch, err := queryChannel(c)
	if err != nil {
		return err
	}
	login := c.QueryParam("login_uid")
	reply, err := callAs[node.SyncReply](s, c, node.MessageSync{LoginUID: login, Channel: ch, Limit: 1})
	if err != nil {
		return err
	}
	if len(reply.Messages) == 0 {
		return errMessageNotFound
	}
	return c.JSON(nethttp.StatusOK, viewMessage(reply.Messages[len(reply.Messages)-1], login))
}

func (s *Server) oneMessage(c echo.Context, viewer string, req node.MessageLookup) error {
	m, err := callAs[*node.Message](s, c, req)
	if err != nil {
		return err
	}
	if m == nil {
		return errMessageNotFound
	}
	return c.JSON(nethttp.StatusOK, viewMessage(m, viewer))
}
