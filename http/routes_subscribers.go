package http

import (
	nethttp "net/http"

	"github.com/labstack/echo/v4"

	"github.com/jindou-im/jindou/node"
)

// subscriberList answers GET /channel/subscribers (Jindou's own; WuKongIM
// lists no subscribers over its API): channel_id and channel_type (a
// person channel by its two-uid id), after (the last uid of the previous
// page) and limit (default 100, at most 1000). The answer is
// {"subscribers":[...],"total":N,"more":bool}, uids in order.
func (s *Server) subscriberList(c echo.Context) error {
	ch, err := queryChannel(c)
	if err != nil {
		return err
	}
	limit, err := queryUint(c, "limit", 16, 0)
	if err != nil {
		return err
	}
	r, err := callAs[node.SubscriberListReply](s, c, node.SubscriberList{Channel: ch, After: c.QueryParam("after"), Limit: int(limit)})
	if err != nil {
		return err
	}
	return c.JSON(nethttp.StatusOK, r)
}
