package sim_test

import (
	"math/rand/v2"
	"slices"
	"time"

	"github.com/jindou-im/jindou/chaos"
	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/sim/world"
)

// Webhooks in the node seeds. Half the seeds (drawn on their own stream,
// so that the other half run exactly as before) give the node a webhook
// receiver and plan three or four receiver outages — down, answering 500,
// answering after the node's timeout — during the safety phase, while the
// node crashes as its plan says. At the end, with the receiver up, every
// stored message of the checked channels must reach it, each channel's in
// seq order (duplicates allowed: at least once), each the message stored
// at its seq; msg.offline never names the sender and names only members;
// user.onlinestatus lines are WuKongIM's format.
// msg.offline names the subscribers at the time of the POST (see
// docs/WEBHOOKS.md), so a rule channel's notice may name any user involved in it.

// setupWebhooks draws whether the seed has a receiver and, if so, the
// node's webhook settings; it returns the receiver's outages for the plan.
func (sw *seedWorld) setupWebhooks(cfg *node.Config) chaos.Plan {
	r := rand.New(sw.Sim.Rand("webhook"))
	if r.IntN(2) == 0 {
		return nil
	}
	rcv := sw.AddReceiver()
	timeout := time.Duration(100+r.IntN(900)) * time.Millisecond
	rcv.SlowDelay = timeout + time.Duration(1+r.IntN(500))*time.Millisecond
	cfg.Webhook = node.WebhookConfig{
		URL:           world.ReceiverURL,
		Timeout:       timeout,
		BatchSize:     1 + r.IntN(100),
		BatchInterval: time.Duration(20+r.IntN(480)) * time.Millisecond,
		MaxBackoff:    time.Duration(200+r.IntN(2800)) * time.Millisecond,
		CompressOver:  r.IntN(3),
	}
	return chaos.DrawReceiver(r, chaos.PlanConfig{Duration: nodeSafety - 2*time.Second})
}

// checkWebhooks waits (to the quiet phase's deadline) for the receiver to
// get every stored message, then judges what it got.
func (sw *seedWorld) checkWebhooks(deadline time.Duration) {
	rcv := sw.Receiver()
	if rcv == nil {
		return
	}
	rcv.Mode = world.ReceiverUp
	stored := map[node.ChannelKey][]*node.Message{}
	for _, ch := range sw.channels {
		msgs, err := sw.syncAll(sw.members[ch][0], ch)
		if err != nil {
			sw.fail("webhook check: reading %s: %v", ch, err)
			return
		}
		stored[ch] = msgs
	}
	sw.runUntil(deadline, func() bool { return rcv.HasAll(stored) }, "the webhook receiver got every stored message")
	res := rcv.CheckNotified(stored)
	for _, f := range res.Failures {
		sw.fail("%s", f)
	}
	if res.Missing > 0 {
		sw.fail("webhook: %d stored messages never reached the receiver", res.Missing)
	}
	for _, m := range rcv.Malformed {
		sw.fail("webhook: malformed POST: %s", m)
	}
	for _, o := range rcv.Offline {
		if slices.Contains(o.ToUIDs, o.FromUID) {
			sw.fail("webhook: msg.offline of %s seq %d names its sender %s", o.Channel, o.Seq, o.FromUID)
		}
		// A rule channel's subscribers change in traffic: any involved user may be named.
		members, ok := sw.members[o.Channel]
		for _, rc := range sw.ruleChannels {
			if rc.key == o.Channel {
				members = rc.involved
			}
		}
		if ok {
			for _, uid := range o.ToUIDs {
				if !slices.Contains(members, uid) {
					sw.fail("webhook: msg.offline of %s seq %d names %s, not a member", o.Channel, o.Seq, uid)
				}
			}
		}
	}
	for _, l := range rcv.Status {
		if s, err := world.ParseStatusLine(l); err != nil || (s.Online && (s.DeviceCount < 1 || s.TotalCount < s.DeviceCount)) {
			sw.fail("webhook: user.onlinestatus line %q: counts do not fit (%v)", l, err)
		}
	}
	c := sw.res.coverage
	c.Add(chaos.WebhookRetries, int64(rcv.Refused+rcv.Errored+rcv.Slow))
	c.Add(chaos.WebhookDups, int64(res.Duplicates))
	c.Add(chaos.WebhookOffline, int64(len(rcv.Offline)))
	c.Add(chaos.WebhookStatus, int64(len(rcv.Status)))
}
