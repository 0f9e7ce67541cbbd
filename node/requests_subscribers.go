package node

import (
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/jindou-im/jindou/node/state"
)

// SubscriberList reads a page of a channel's subscribers, in uid order:
// up to Limit (default DefaultSubscriberLimit, at most
// MaxSubscriberLimit) after the uid After, with the channel's count of
// subscribers (GET /channel/subscribers, the admin page). Reply:
// SubscriberListReply.
type SubscriberList struct {
	Channel ChannelKey
	After   string
	Limit   int
}

// SubscriberListReply is a page of subscribers, the channel's total, and
// whether more follow the page (ask again with After set to its last uid).
type SubscriberListReply struct {
	Subscribers []string `json:"subscribers"`
	Total       int      `json:"total"`
	More        bool     `json:"more"`
}

// The page sizes of SubscriberList.
const (
	DefaultSubscriberLimit = 100
	MaxSubscriberLimit     = 1000
)

func (r SubscriberList) run(a *apiLoop, done func(any, error)) error {
	if err := checkChannel(r.Channel); err != nil {
		return err
	}
	limit := r.Limit
	switch {
	case limit < 0 || limit > MaxSubscriberLimit:
		return &BadRequest{Field: "limit", Msg: fmt.Sprintf("limit must be between 0 and %d", MaxSubscriberLimit)}
	case limit == 0:
		limit = DefaultSubscriberLimit
	}
	q := querySubscribers{Ch: r.Channel, After: r.After, Limit: limit}
	a.read(state.SlotOfChannel(r.Channel, a.n.cfg.Slots), q, func(res readResult, err error) {
		if err != nil {
			done(nil, err)
			return
		}
		p := res.(subscribersResult)
		done(SubscriberListReply{Subscribers: p.UIDs, Total: p.Total, More: p.More}, nil)
	})
	return nil
}

// querySubscribers reads a page of a channel's subscribers. Result:
// subscribersResult.
type querySubscribers struct {
	Ch    state.ChannelKey
	After string
	Limit int
}

type subscribersResult struct {
	UIDs  []string
	Total int
	More  bool
}

func (querySubscribers) isSlotQuery()   {}
func (subscribersResult) isReadResult() {}

// readSubscribersQuery answers this file's queries on the slot loop
// (slot_serve.go hands over the kinds it does not know).
func readSubscribersQuery(m *state.Machine, db pebble.Reader, q slotQuery) (readResult, bool) {
	if q, ok := q.(querySubscribers); ok {
		uids, total, more := m.SubscriberPage(db, q.Ch, q.After, q.Limit)
		return subscribersResult{UIDs: uids, Total: total, More: more}, true
	}
	return nil, false
}

// The peer encoding of this file's query and result (peer_query.go hands
// over the kinds it does not know).
const (
	qSubscribers byte = 96
	rSubscribers byte = 96
)

func writeSubscribersQuery(w *state.Writer, q slotQuery) bool {
	sq, ok := q.(querySubscribers)
	if ok {
		w.Byte(qSubscribers)
		w.Channel(sq.Ch)
		w.Str(sq.After)
		w.Int(int64(sq.Limit))
	}
	return ok
}

func readSubscribersQueryOf(kind byte, r *state.Reader) slotQuery {
	if kind != qSubscribers {
		return nil
	}
	return querySubscribers{Ch: r.Channel(), After: r.Str(), Limit: int(r.Int())}
}

func writeSubscribersResult(w *state.Writer, res readResult) bool {
	sr, ok := res.(subscribersResult)
	if ok {
		w.Byte(rSubscribers)
		w.Strs(sr.UIDs)
		w.Int(int64(sr.Total))
		w.Bool(sr.More)
	}
	return ok
}

func readSubscribersResultOf(kind byte, r *state.Reader) readResult {
	if kind != rSubscribers {
		return nil
	}
	return subscribersResult{UIDs: r.Strs(), Total: int(r.Int()), More: r.Bool()}
}
