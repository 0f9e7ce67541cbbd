package sim_test

import (
	"math/rand/v2"
	"slices"
	"time"

	"github.com/jindou-im/jindou/chaos"
	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/sim/world"
)

// The seeds read channels' subscriber lists a page at a time
// (node.SubscriberList), from any up node, with small pages so that most
// lists take several; a list read whole must be the channel's members, in
// uid order, each once, with every page giving the same total. Only the
// plain groups and the person channels are read: their members never
// change in a run (the rule channels' do, in traffic).

// startSubscriberReader reads a list every 0.3-2 s, drawing from its own
// stream.
func (sw *seedWorld) startSubscriberReader() {
	r := rand.New(sw.Sim.Rand("subscriber-reader"))
	var next func()
	next = func() {
		if !sw.quiet {
			sw.Sim.After(time.Duration(300+r.IntN(1700))*time.Millisecond, "subscribers", next)
		}
		up := sw.upNodes()
		ch := sw.channels[r.IntN(len(sw.channels))]
		if len(up) == 0 || sw.isRuleChannel(ch) {
			return
		}
		sw.readSubscriberPages(up[r.IntN(len(up))], ch, 1+r.IntN(4), "", nil, 0)
	}
	sw.Sim.After(200*time.Millisecond, "subscribers", next)
}

func (sw *seedWorld) isRuleChannel(ch node.ChannelKey) bool {
	return slices.ContainsFunc(sw.ruleChannels, func(rc *ruleChannel) bool { return rc.key == ch })
}

// readSubscriberPages reads the page after after, then the next ones; a
// read that fails (a crash, a timeout) abandons the list.
func (sw *seedWorld) readSubscriberPages(n *world.Node, ch node.ChannelKey, limit int, after string, got []string, pages int) {
	n.Submit(node.SubscriberList{Channel: ch, After: after, Limit: limit}, func(v any, err error) {
		if err != nil {
			return
		}
		p := v.(node.SubscriberListReply)
		want := slices.Sorted(slices.Values(sw.members[ch]))
		if p.Total != len(want) || len(p.Subscribers) > limit || (p.More && len(p.Subscribers) != limit) {
			sw.fail("%s: a subscriber page after %q of limit %d: %d uids, total %d, more %v; the channel has %d members",
				ch, after, limit, len(p.Subscribers), p.Total, p.More, len(want))
			return
		}
		got = append(got, p.Subscribers...)
		if p.More {
			sw.readSubscriberPages(n, ch, limit, got[len(got)-1], got, pages+1)
			return
		}
		if !slices.Equal(got, want) {
			sw.fail("%s: its subscribers read in pages of %d are %v, want %v", ch, limit, got, want)
			return
		}
		if pages > 0 {
			sw.res.coverage.Add(chaos.SubscriberPages, 1)
		}
	})
}
