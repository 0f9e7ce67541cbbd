package sim_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/node/state"
	"github.com/jindou-im/jindou/sim/world"
)

// subscriberPages reads every page of ch's subscribers from n, limit at a
// time, and the totals each page gave.
func subscriberPages(t *testing.T, n *world.Node, ch node.ChannelKey, limit int) (all []string, totals []int) {
	t.Helper()
	after := ""
	for {
		p := n.MustCall(node.SubscriberList{Channel: ch, After: after, Limit: limit}).(node.SubscriberListReply)
		all = append(all, p.Subscribers...)
		totals = append(totals, p.Total)
		if !p.More {
			return all, totals
		}
		if len(p.Subscribers) != limit {
			t.Fatalf("a page of %d subscribers says more follow, with a limit of %d", len(p.Subscribers), limit)
		}
		after = p.Subscribers[len(p.Subscribers)-1]
	}
}

func TestSubscriberPagesListEveryMemberOnceInOrderFromAnyNode(t *testing.T) {
	w := world.New(t, 34)
	nodes := w.AddCluster(3, clusterConfig(4))
	big := node.ChannelKey{Type: proto.ChannelGroup, ID: "big"}
	var members []string
	for i := range 250 {
		members = append(members, fmt.Sprintf("u%03d", 249-i)) // added out of order
	}
	nodes[0].MustCall(node.ChannelUpsert{Channel: big, Subscribers: members})
	slices.Sort(members)
	leader := w.LeaderOf(state.SlotOfChannel(big, 4))
	for _, n := range nodes { // the leader's node and the others, which pass the read on
		got, totals := subscriberPages(t, n, big, 100)
		if !slices.Equal(got, members) {
			t.Fatalf("node %d (slot leader %d) lists %d subscribers, want the 250 in uid order", n.ID(), leader.ID(), len(got))
		}
		if !slices.Equal(totals, []int{250, 250, 250}) {
			t.Fatalf("node %d: pages of 100 gave totals %v, want 3 pages of 250", n.ID(), totals)
		}
	}
	nodes[1].MustCall(node.Subscribers{Channel: big, Remove: true, Subscribers: []string{"u000", "u100"}})
	p := nodes[2].MustCall(node.SubscriberList{Channel: big, Limit: 3}).(node.SubscriberListReply)
	if !slices.Equal(p.Subscribers, []string{"u001", "u002", "u003"}) || p.Total != 248 || !p.More {
		t.Fatalf("after two removals the first page is %+v", p)
	}
	// A person channel's id may put either user first: its two users come
	// in uid order all the same, a page of one at a time.
	for _, pair := range [][2]string{{"ann", "bo"}, {"bo", "ann"}, {"u30", "u1"}, {"u1", "u30"}} {
		person := node.ChannelKey{Type: proto.ChannelPerson, ID: state.PersonChannelID(pair[0], pair[1])}
		want := slices.Sorted(slices.Values(pair[:]))
		if got, totals := subscriberPages(t, nodes[0], person, 1); !slices.Equal(got, want) || !slices.Equal(totals, []int{2, 2}) {
			t.Fatalf("person channel %s: subscribers %v (totals %v), want %v", person.ID, got, totals, want)
		}
	}
	_, err := nodes[0].Call(node.SubscriberList{Channel: big, Limit: node.MaxSubscriberLimit + 1})
	var bad *node.BadRequest
	if !errors.As(err, &bad) || bad.Field != "limit" {
		t.Fatalf("a limit over the maximum: %v, want a bad request naming limit", err)
	}
}
