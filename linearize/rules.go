package linearize

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// The permission model: what a history's rule changes (bans, subscribers,
// lists, system uids) allowed at each moment, for the checks of
// permissions.go. Each modelled channel starts from declared rules; a
// change takes effect at some instant between its call and its return
// (never, or any time after its call, when its outcome is unknown). The
// changes are applied in order of call: the caller issues them one at a
// time. Where the model cannot decide (a change racing an operation) it
// allows every possibility.

// Refusal reasons, as the checks name them (Failed's reason for a send of
// a modelled channel).
const (
	RefusedNoChannel     = "channel-not-exist"
	RefusedDisband       = "disband"
	RefusedBan           = "ban"
	RefusedSendBan       = "send-ban"
	RefusedNotSubscriber = "not-subscriber"
	RefusedBlacklist     = "blacklist"
	RefusedNotWhitelist  = "not-whitelist"
	// Allowed is the outcome of a send the rules let through.
	Allowed = "ok"
)

// ChannelRules are one group channel's permissions. Person: the channel
// is a person chat whose one sender is judged by the other side's own
// lists (a blacklist, a whitelist if it has one): no subscription or
// existence is asked.
type ChannelRules struct {
	Exists, Ban, SendBan, Disband     bool
	Subscribers, Blacklist, Whitelist []string
	Person                            bool
}

// RuleChange is one change of the rules. Channel "" is the system uid
// list (What "system-add"/"system-remove"). What is one of: "info" (sets
// Ban, SendBan and Disband, and makes the channel exist), "delete" (the
// channel's info, subscribers and lists go), "sub-add", "sub-remove",
// "black-add", "black-remove", "white-add", "white-remove".
type RuleChange struct {
	Channel               string
	What                  string
	UIDs                  []string
	Ban, SendBan, Disband bool
}

func (c RuleChange) String() string {
	if c.What == "info" {
		return fmt.Sprintf("%s info ban=%v send_ban=%v disband=%v", c.Channel, c.Ban, c.SendBan, c.Disband)
	}
	ch := c.Channel
	if ch == "" {
		ch = "system uids"
	}
	return fmt.Sprintf("%s %s %s", ch, c.What, strings.Join(c.UIDs, ","))
}

// SystemSlack is how long after its return a change of the system uids
// may still be unseen by a send: the node hands the list to its loops
// after applying it.
const SystemSlack = time.Second

type ruleChange struct {
	RuleChange
	call, ret time.Duration
}

// rulesState is the per-recorder state of the permission model and the
// views (views.go).
type rulesState struct {
	initial map[string]ChannelRules
	// rulesOf names, for a channel judged by another's rules (a person
	// chat, by the other side's own channel), that channel (ModelledBy).
	rulesOf map[string]string
	changes []ruleChange
	connUID map[string]string
	kicks   []kick
	more    map[OpID]bool
	convs   []convRead
}

type kick struct {
	at     time.Duration
	conn   string
	reason string
	pushes int // pushes recorded before it
}

func (r *Recorder) rules() *rulesState {
	if r.ext == nil {
		r.ext = &rulesState{initial: map[string]ChannelRules{}, rulesOf: map[string]string{}, connUID: map[string]string{}, more: map[OpID]bool{}}
	}
	return r.ext
}

// Modelled declares that channel's sends and deliveries are checked
// against the permission model, starting from rules.
func (r *Recorder) Modelled(channel string, rules ChannelRules) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rules().initial[channel] = rules
}

// ModelledBy declares that channel's sends are judged by the rules of
// the modelled channel rules (declared with Modelled, and changed under
// that name): a person chat whose one sender the other side's own lists
// judge.
func (r *Recorder) ModelledBy(channel, rules string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rules().rulesOf[channel] = rules
}

// model is the name of the rules that judge channel's sends.
func (h *rulesState) model(channel string) string {
	if k, ok := h.rulesOf[channel]; ok {
		return k
	}
	return channel
}

// RuleChanged records change c, called at call and returned at ret
// (Forever if its outcome is unknown: it may have taken effect any time
// after its call, or never).
func (r *Recorder) RuleChanged(call, ret time.Duration, c RuleChange) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c.UIDs = slices.Clone(c.UIDs)
	r.rules().changes = append(r.rules().changes, ruleChange{c, call, ret})
}

// ConnUser says connection conn is user uid's.
func (r *Recorder) ConnUser(conn, uid string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rules().connUID[conn] = uid
}

// Disconnected records that connection conn got a DISCONNECT (a kick) at
// at: it must get no RECV after it.
func (r *Recorder) Disconnected(at time.Duration, conn, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rules().kicks = append(r.rules().kicks, kick{at: at, conn: conn, reason: reason, pushes: len(r.pushes)})
}

// rules of the model, as sets.
type ruleSet struct {
	exists, ban, sendBan, disband bool
	subs, black, white            map[string]bool
	person                        bool
}

func newRuleSet(c ChannelRules) *ruleSet {
	set := func(uids []string) map[string]bool {
		m := map[string]bool{}
		for _, u := range uids {
			m[u] = true
		}
		return m
	}
	return &ruleSet{exists: c.Exists, ban: c.Ban, sendBan: c.SendBan, disband: c.Disband,
		subs: set(c.Subscribers), black: set(c.Blacklist), white: set(c.Whitelist), person: c.Person}
}

func (s *ruleSet) apply(c RuleChange, system map[string]bool) {
	each := func(m map[string]bool, v bool) {
		for _, u := range c.UIDs {
			if v {
				m[u] = true
			} else {
				delete(m, u)
			}
		}
	}
	switch c.What {
	case "info":
		s.exists, s.ban, s.sendBan, s.disband = true, c.Ban, c.SendBan, c.Disband
	case "delete":
		*s = ruleSet{subs: map[string]bool{}, black: map[string]bool{}, white: map[string]bool{}, person: s.person}
	case "sub-add":
		s.exists = true
		each(s.subs, true)
	case "sub-remove":
		each(s.subs, false)
	case "black-add":
		each(s.black, true)
	case "black-remove":
		each(s.black, false)
	case "white-add":
		each(s.white, true)
	case "white-remove":
		each(s.white, false)
	case "system-add":
		each(system, true)
	case "system-remove":
		each(system, false)
	}
}

// decide is the send rule of a group channel (as WuKongIM's), or of a
// person chat's sender.
func (s *ruleSet) decide(from string, system bool) string {
	if s.person {
		return s.decidePerson(from, system)
	}
	switch {
	case !s.exists:
		return RefusedNoChannel
	case system:
		return Allowed
	case s.disband:
		return RefusedDisband
	case s.ban:
		return RefusedBan
	case s.sendBan:
		return RefusedSendBan
	case !s.subs[from]:
		return RefusedNotSubscriber
	}
	return s.decideLists(from)
}

// decidePerson is the send rule of a person chat, by the other side's
// lists.
func (s *ruleSet) decidePerson(from string, system bool) string {
	if system {
		return Allowed
	}
	return s.decideLists(from)
}

// decideLists is the last part of both rules: the black- and whitelist.
func (s *ruleSet) decideLists(from string) string {
	switch {
	case s.black[from]:
		return RefusedBlacklist
	case len(s.white) > 0 && !s.white[from]:
		return RefusedNotWhitelist
	}
	return Allowed
}

// maxUncertain bounds the changes racing one operation whose every subset
// the model tries; past it the operation is not judged.
const maxUncertain = 8

// states calls each, for every rule state channel may have had at some
// instant in [from, to], with the system uids of that state. It reports
// false if too many changes raced the interval to try them all.
func (h *rulesState) states(initial ChannelRules, channel string, from, to time.Duration, each func(*ruleSet, map[string]bool)) bool {
	var definite, uncertain []ruleChange
	for _, c := range h.changes {
		if c.Channel != channel && c.Channel != "" {
			continue
		}
		end := c.ret
		if c.Channel == "" && end != Forever {
			end += SystemSlack
		}
		switch {
		case c.call > to:
		case end < from:
			definite = append(definite, c)
		default:
			uncertain = append(uncertain, c)
		}
	}
	if len(uncertain) > maxUncertain {
		return false
	}
	for mask := 0; mask < 1<<len(uncertain); mask++ {
		var applied []ruleChange
		applied = append(applied, definite...)
		for i, c := range uncertain {
			if mask&(1<<i) != 0 {
				applied = append(applied, c)
			}
		}
		slices.SortStableFunc(applied, func(a, b ruleChange) int { return int(a.call - b.call) })
		s, system := newRuleSet(initial), map[string]bool{}
		for _, c := range applied {
			s.apply(c.RuleChange, system)
		}
		each(s, system)
	}
	return true
}
