package sim_test

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/jindou-im/jindou/chaos"
	"github.com/jindou-im/jindou/linearize"
	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/runtime"
)

// Permission changes during traffic: the rule channels, whose subscribers,
// lists and flags the plan's workload steps change while their users send
// (some never subscribed), checked against the history's permission model;
// and the system uids, tokens and device quits the steps change too.

// ruleChannel is a group channel whose rules change during the run.
type ruleChannel struct {
	key node.ChannelKey
	// involved are the users that send to it: subscribers at the start and
	// outsiders.
	involved []string
}

// admin issues the workload steps' changes one at a time, in order, each
// until it is answered (again after a crash: every change is idempotent).
type admin struct {
	queue []adminChange
	// busy: the head of the queue is submitted and unanswered, on node
	// on since attemptAt.
	busy      bool
	on        runtime.NodeID
	attemptAt time.Duration
}

type adminChange struct {
	step  chaos.Step
	req   node.Request
	rule  *linearize.RuleChange // nil: not a rule of the model (tokens, quits)
	feat  chaos.Feature
	first time.Duration // first call
	calls int
}

// makeRuleChannels creates the rule channels from the "rules" stream.
func (sw *seedWorld) makeRuleChannels() {
	r := rand.New(sw.Sim.Rand("rules"))
	for i := range 1 + r.IntN(2) {
		rc := &ruleChannel{key: node.ChannelKey{Type: proto.ChannelGroup, ID: fmt.Sprintf("r%d", i)}}
		var subs []string
		for _, u := range sw.users {
			switch r.IntN(6) {
			case 0, 1:
				subs = append(subs, u.uid)
				rc.involved = append(rc.involved, u.uid)
			case 2:
				rc.involved = append(rc.involved, u.uid) // never subscribed, at first
			}
		}
		if len(subs) == 0 {
			subs = []string{sw.users[0].uid}
			rc.involved = append(rc.involved, sw.users[0].uid)
		}
		if _, err := sw.setupCall(node.ChannelUpsert{Channel: rc.key, Subscribers: subs}); err != nil {
			sw.fail("creating %s: %v", rc.key, err)
		}
		sw.History.Modelled(rc.key.String(), linearize.ChannelRules{Exists: true, Subscribers: subs})
		for _, uid := range rc.involved {
			u := sw.userByUID(uid)
			u.ruleTargets = append(u.ruleTargets, target{addr: rc.key.ID, typ: proto.ChannelGroup, key: rc.key, modelled: true})
		}
		sw.members[rc.key] = subs
		sw.channels = append(sw.channels, rc.key)
		sw.ruleChannels = append(sw.ruleChannels, rc)
	}
}

// drawSteps draws the workload steps of the plan from r: changes of the
// rule channels, the system uids, tokens and devices.
func (sw *seedWorld) drawSteps(r *rand.Rand) chaos.Plan {
	var p chaos.Plan
	for range 6 + r.IntN(14) {
		at := time.Duration(500+r.IntN(int((nodeSafety-time.Second)/time.Millisecond))) * time.Millisecond
		rc := sw.ruleChannels[r.IntN(len(sw.ruleChannels))]
		uid := rc.involved[r.IntN(len(rc.involved))]
		var st chaos.Step
		switch k := r.IntN(20); {
		case k < 6:
			st = chaos.Step{Action: []string{"sub-add", "sub-remove"}[r.IntN(2)], Args: []string{rc.key.ID, uid}}
		case k < 10:
			st = chaos.Step{Action: []string{"black-add", "black-remove", "white-add", "white-remove"}[r.IntN(4)], Args: []string{rc.key.ID, uid}}
		case k < 14:
			// A flag is set, and later cleared.
			flag := []string{"ban", "send-ban", "disband"}[r.IntN(3)]
			p = append(p, chaos.Step{At: at, Action: "info", Args: []string{rc.key.ID, flag}})
			at += time.Duration(200+r.IntN(2000)) * time.Millisecond
			st = chaos.Step{Action: "info", Args: []string{rc.key.ID, "none"}}
		case k < 15:
			st = chaos.Step{Action: "delete", Args: []string{rc.key.ID}}
		case k < 17:
			st = chaos.Step{Action: []string{"system-add", "system-remove"}[r.IntN(2)], Args: []string{uid}}
		default:
			if len(sw.devices) == 0 {
				continue
			}
			d := sw.devices[r.IntN(len(sw.devices))]
			st = chaos.Step{Action: []string{"token", "quit"}[r.IntN(2)], Args: []string{d.uid, fmt.Sprint(int(d.c.Flag))}}
		}
		st.At = at
		p = append(p, st)
	}
	slices.SortStableFunc(p, func(a, b chaos.Fault) int { return cmp.Compare(a.(chaos.Step).At, b.(chaos.Step).At) })
	return p
}

// step queues a workload step's change with the admin.
func (sw *seedWorld) step(st chaos.Step) {
	ch := func() node.ChannelKey { return node.ChannelKey{Type: proto.ChannelGroup, ID: st.Args[0]} }
	uids := func() []string { return st.Args[1:] }
	c := adminChange{step: st, feat: chaos.ListChanges}
	rule := func(what string, uidList []string) *linearize.RuleChange {
		return &linearize.RuleChange{Channel: ch().String(), What: what, UIDs: uidList}
	}
	switch st.Action {
	case "sub-add", "sub-remove":
		c.req = node.Subscribers{Channel: ch(), Remove: st.Action == "sub-remove", Subscribers: uids()}
		c.rule = rule(st.Action, uids())
	case "black-add", "black-remove", "white-add", "white-remove":
		list, op := "blacklist", "add"
		if st.Action[:5] == "white" {
			list = "whitelist"
		}
		if st.Action[6:] == "remove" {
			op = "remove"
		}
		c.req = node.ListUpdate{Channel: ch(), List: list, Op: op, UIDs: uids()}
		c.rule = rule(st.Action, uids())
	case "info":
		info := node.ChannelInfo{Ban: st.Args[1] == "ban", SendBan: st.Args[1] == "send-ban", Disband: st.Args[1] == "disband"}
		c.req, c.feat = node.ChannelInfoUpdate{Channel: ch(), Info: info}, chaos.InfoChanges
		c.rule = &linearize.RuleChange{Channel: ch().String(), What: "info", Ban: info.Ban, SendBan: info.SendBan, Disband: info.Disband}
	case "delete":
		c.req, c.feat, c.rule = node.ChannelDelete{Channel: ch()}, chaos.InfoChanges, rule("delete", nil)
	case "system-add", "system-remove":
		c.req = node.SystemUIDs{Op: st.Action[7:], UIDs: st.Args}
		c.rule = &linearize.RuleChange{What: st.Action, UIDs: st.Args}
	case "token", "quit":
		var flag int
		fmt.Sscan(st.Args[1], &flag)
		c.feat = chaos.TokenChanges
		if st.Action == "quit" {
			c.req = node.DeviceQuit{UID: st.Args[0], DeviceFlag: flag}
		} else {
			c.req = node.UserToken{UID: st.Args[0], Token: fmt.Sprintf("t%v", sw.Now()), DeviceFlag: uint8(flag), DeviceLevel: uint8(proto.DeviceMaster)}
		}
	default:
		if !sw.personStep(st, &c) { // nodeseeds_persons_test.go
			sw.fail("unknown workload step %q", st)
			return
		}
	}
	sw.admin.queue = append(sw.admin.queue, c)
	sw.adminNext()
}

// adminNext submits the head of the queue to a random up node, unless
// it is in flight.
func (sw *seedWorld) adminNext() {
	a := &sw.admin
	n := sw.api()
	if a.busy || len(a.queue) == 0 || n == nil {
		return
	}
	c := &a.queue[0]
	if c.calls == 0 {
		c.first = sw.Now()
	}
	c.calls++
	a.on, a.attemptAt = n.ID(), sw.Now()
	a.busy = n.Submit(c.req, func(_ any, err error) {
		a.busy = false
		if transient(err) {
			// It may take effect later still: asked again.
			sw.attemptUnknown(c, a.attemptAt)
			sw.Sim.After(retryDelay, "admin-retry", sw.adminNext)
			return
		}
		if err != nil {
			sw.fail("workload step %q: %v", c.step, err)
		} else {
			sw.res.coverage.Add(c.feat, 1)
		}
		if c.rule != nil {
			sw.History.RuleChanged(c.first, sw.Now(), *c.rule)
		}
		a.queue = a.queue[1:]
		sw.adminNext()
	})
}

// attemptUnknown records that an attempt of c made at at has an unknown
// outcome: in a cluster it may still take effect at any later time (the
// proposal waits for a leader), after the retry's. One node applies
// what a crash left in its log on restart, before the retry: the change's
// interval from its first call covers it.
func (sw *seedWorld) attemptUnknown(c *adminChange, at time.Duration) {
	if c.rule != nil && sw.cluster() {
		sw.History.RuleChanged(at, linearize.Forever, *c.rule)
	}
}

// adminLost: node id crashed; what was in flight there is asked again
// (adminNext, after the crash in a cluster, after the restart on one
// node).
func (sw *seedWorld) adminLost(id runtime.NodeID) {
	a := &sw.admin
	if a.busy && a.on == id {
		a.busy = false
		sw.attemptUnknown(&a.queue[0], a.attemptAt)
	}
}

// adminUnanswered records the changes never answered: they may have taken
// effect any time after their first call.
func (sw *seedWorld) adminUnanswered() {
	for _, c := range sw.admin.queue {
		if c.rule != nil && c.calls > 0 {
			sw.History.RuleChanged(c.first, linearize.Forever, *c.rule)
		}
	}
}

// refusal names a send refusal for the permission model; ok is false for
// a reason that is not a permission's.
func refusal(code proto.ReasonCode) (string, bool) {
	name, ok := map[proto.ReasonCode]string{
		proto.ReasonChannelNotExist:    linearize.RefusedNoChannel,
		proto.ReasonDisband:            linearize.RefusedDisband,
		proto.ReasonBan:                linearize.RefusedBan,
		proto.ReasonSendBan:            linearize.RefusedSendBan,
		proto.ReasonSubscriberNotExist: linearize.RefusedNotSubscriber,
		proto.ReasonInBlacklist:        linearize.RefusedBlacklist,
		proto.ReasonNotInWhitelist:     linearize.RefusedNotWhitelist,
	}[code]
	return name, ok
}
