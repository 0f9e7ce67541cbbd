package sim_test

import (
	"fmt"
	"testing"

	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/node/state"
	"github.com/jindou-im/jindou/sim/world"
)

// A person send whose recipient's facts live in a slot of another slot
// loop is decided by the facts as they are after every change answered
// before it: the copy the sending loop keeps of them (facts_cache.go) is
// dropped on each change, and never serves an old answer.
func TestPersonFactsOfAnotherLoopFollowEveryChange(t *testing.T) {
	w := world.New(t, 21)
	cfg := node.Config{Slots: 64, SlotLoops: 2}
	n := w.AddNode(1, cfg)
	from, to := crossLoopPair(t, cfg)
	a := w.Connected(from, "1")
	aIn := watch(a)
	own := node.ChannelKey{Type: proto.ChannelPerson, ID: to}
	sent := 0
	try := func(want proto.ReasonCode, what string) {
		t.Helper()
		for range 3 { // the second and third read the loop's copy
			sent++
			a.Send(to, proto.ChannelPerson, fmt.Sprint("m", sent), []byte("x"), 0, nil)
			w.Until(what, func() bool { return len(aIn.acks) == sent })
			if got := aIn.acks[sent-1].ReasonCode; got != want {
				t.Fatalf("%s: reason %d, want %d", what, got, want)
			}
		}
	}
	for range 2 {
		try(proto.ReasonSuccess, "no rules")
		n.MustCall(node.ListUpdate{Channel: own, List: "blacklist", Op: "add", UIDs: []string{from}})
		try(proto.ReasonInBlacklist, "blacklisted")
		n.MustCall(node.ListUpdate{Channel: own, List: "blacklist", Op: "remove", UIDs: []string{from}})
		try(proto.ReasonSuccess, "blacklist removed")
		n.MustCall(node.ListUpdate{Channel: own, List: "whitelist", Op: "set", UIDs: []string{"someone"}})
		try(proto.ReasonNotInWhitelist, "not whitelisted")
		n.MustCall(node.ListUpdate{Channel: own, List: "whitelist", Op: "add", UIDs: []string{from}})
		try(proto.ReasonSuccess, "whitelisted")
		n.MustCall(node.ListUpdate{Channel: own, List: "whitelist", Op: "remove_all"})
	}
}

// crossLoopPair finds two uids whose chat's slot and whose recipient's
// facts slot belong to different slot loops.
func crossLoopPair(t *testing.T, cfg node.Config) (from, to string) {
	for i := range 100 {
		from, to = fmt.Sprint("a", i), fmt.Sprint("b", i)
		ch := state.ChannelKey{Type: proto.ChannelPerson, ID: state.PersonChannelID(from, to)}
		chat, facts := state.SlotOfChannel(ch, cfg.Slots), state.PersonFactsSlot(ch, from, cfg.Slots)
		if chat%cfg.SlotLoops != facts%cfg.SlotLoops {
			return from, to
		}
	}
	t.Fatal("no pair of uids crosses slot loops")
	return "", ""
}
