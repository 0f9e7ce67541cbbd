package sim_test

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/jindou-im/jindou/chaos"
	"github.com/jindou-im/jindou/linearize"
	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/node/proto"
)

// A person's own lists in traffic: some users send person messages to a
// uid that never connects (rulePerson), whose own channel's blacklist and
// whitelist the plan's workload steps change; each send is judged by the
// permission model against those lists as they were during it. The chats'
// slots and the person's own slot may belong to different slot loops, so
// this is what checks the sending loop's copy of another loop's facts
// (node/facts_cache.go), which a node uses only alone; in a cluster the
// facts are read from the person's slot's leader. In the cluster seeds
// this workload found (seed 127) a send answered refused while a repeat
// of it was stored, which refusals decided in the log now prevent
// (node/state/refuse.go). The coverage feature facts_notices fails a seed
// set in which no slot loop was ever told of a change or a slot caught up
// by another.

// rulePerson is the uid whose own lists change.
const rulePerson = "rp0"

// rulePersons are the users that send to rulePerson.
type rulePersons struct {
	senders []*seedUser
	rng     *rand.Rand
}

func rulePersonChannel() node.ChannelKey {
	return node.ChannelKey{Type: proto.ChannelPerson, ID: rulePerson}
}

// makeRulePersons picks the senders from the "persons" stream and declares
// their chats to the model.
func (sw *seedWorld) makeRulePersons() {
	r := rand.New(sw.Sim.Rand("persons"))
	own := rulePersonChannel().String()
	sw.History.Modelled(own, linearize.ChannelRules{Person: true})
	for _, u := range sw.users {
		if u != sw.users[0] && r.IntN(3) != 0 {
			continue // the first user always sends, a third of the others
		}
		key := node.ChannelKey{Type: proto.ChannelPerson, ID: node.PersonChannelID(u.uid, rulePerson)}
		sw.History.ModelledBy(key.String(), own)
		sw.members[key] = []string{u.uid, rulePerson}
		sw.channels = append(sw.channels, key)
		sw.persons.senders = append(sw.persons.senders, u)
	}
	sw.persons.rng = rand.New(sw.Sim.Rand("persons-send"))
}

func (sw *seedWorld) personTarget(u *seedUser) target {
	key := node.ChannelKey{Type: proto.ChannelPerson, ID: node.PersonChannelID(u.uid, rulePerson)}
	return target{addr: rulePerson, typ: proto.ChannelPerson, key: key, modelled: true}
}

// startPersonSender makes one of the senders send to rulePerson every
// 30-230 ms of the safety phase.
func (sw *seedWorld) startPersonSender() {
	p := &sw.persons
	if len(p.senders) == 0 {
		return // a cluster's seed
	}
	var next func()
	next = func() {
		if sw.quiet {
			return
		}
		u := p.senders[p.rng.IntN(len(p.senders))]
		if u.c.Ready && u.c.Inflight() < 20 {
			u.send(sw.personTarget(u), false)
		}
		sw.Sim.After(time.Duration(30+p.rng.IntN(200))*time.Millisecond, "person-send", next)
	}
	sw.Sim.After(time.Duration(30+p.rng.IntN(200))*time.Millisecond, "person-send", next)
}

// drawPersonSteps draws changes of rulePerson's lists, each naming one of
// the senders.
func (sw *seedWorld) drawPersonSteps(r *rand.Rand) chaos.Plan {
	var p chaos.Plan
	if len(sw.persons.senders) == 0 {
		return nil // a cluster's seed
	}
	for range 8 + r.IntN(12) {
		at := time.Duration(500+r.IntN(int((nodeSafety-time.Second)/time.Millisecond))) * time.Millisecond
		u := sw.persons.senders[r.IntN(len(sw.persons.senders))]
		action := []string{"pblack-add", "pblack-remove", "pwhite-add", "pwhite-remove"}[r.IntN(4)]
		p = append(p, chaos.Step{At: at, Action: action, Args: []string{rulePerson, u.uid}})
	}
	slices.SortStableFunc(p, func(a, b chaos.Fault) int { return cmp.Compare(a.(chaos.Step).At, b.(chaos.Step).At) })
	return p
}

// personStep makes the admin change of a step of drawPersonSteps; false
// for a step of another kind.
func (sw *seedWorld) personStep(st chaos.Step, c *adminChange) bool {
	list := map[string]string{"pblack-add": "blacklist", "pblack-remove": "blacklist", "pwhite-add": "whitelist", "pwhite-remove": "whitelist"}[st.Action]
	if list == "" || len(st.Args) != 2 {
		return false
	}
	op := "add"
	if st.Action[len(st.Action)-6:] == "remove" {
		op = "remove"
	}
	own := node.ChannelKey{Type: proto.ChannelPerson, ID: st.Args[0]}
	c.req = node.ListUpdate{Channel: own, List: list, Op: op, UIDs: st.Args[1:]}
	c.rule = &linearize.RuleChange{Channel: own.String(), What: st.Action[1:], UIDs: st.Args[1:]}
	c.feat = chaos.ListChanges
	return true
}
