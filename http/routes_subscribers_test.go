package http

import (
	"slices"
	"testing"
)

type subscriberPage struct {
	Subscribers []string `json:"subscribers"`
	Total       int      `json:"total"`
	More        bool     `json:"more"`
}

func TestSubscriberListPagesAChannelsSubscribersInOrder(t *testing.T) {
	s := newTestServer(t, Config{})
	group(t, s, "subs-g", "sc", "sa", "sb")
	var p subscriberPage
	r := get(t, s, "/channel/subscribers?channel_id=subs-g&channel_type=2&limit=2")
	must200(t, r)
	r.json(t, &p)
	if !slices.Equal(p.Subscribers, []string{"sa", "sb"}) || p.Total != 3 || !p.More {
		t.Fatalf("first page %+v, want sa, sb of 3 and more", p)
	}
	get(t, s, "/channel/subscribers?channel_id=subs-g&channel_type=2&limit=2&after=sb").json(t, &p)
	if !slices.Equal(p.Subscribers, []string{"sc"}) || p.Total != 3 || p.More {
		t.Fatalf("second page %+v, want sc and no more", p)
	}
	get(t, s, "/channel/subscribers?channel_id=subs-none&channel_type=2").json(t, &p)
	if len(p.Subscribers) != 0 || p.Subscribers == nil || p.Total != 0 {
		t.Fatalf("a channel without subscribers: %+v, want [] and 0", p)
	}
	mustBad(t, get(t, s, "/channel/subscribers?channel_id=subs-g&channel_type=2&limit=5000"), "limit")
	mustBad(t, get(t, s, "/channel/subscribers?channel_id=subs-g&channel_type=2&limit=-1"), "limit")
	mustBad(t, get(t, s, "/channel/subscribers?channel_type=2"), "channel_id")
}
