package http

import (
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/jindou-im/jindou/node"
)

// tmpSubscriberSet is POST /tmpchannel/subscriber_set {channel_id, uids}:
// the subscribers of temporary channel channel_id (type 8), replaced.
func (s *Server) tmpSubscriberSet(c echo.Context) error {
	var req struct {
		ChannelID string   `json:"channel_id"`
		UIDs      []string `json:"uids"`
	}
	if err := decode(c, &req); err != nil {
		return err
	}
	if strings.TrimSpace(req.ChannelID) == "" {
		return required("channel_id")
	}
	if !nonEmpty(req.UIDs) {
		return required("uids")
	}
	return s.run(c, node.TmpSubscriberSet{ChannelID: req.ChannelID, UIDs: req.UIDs})
}
