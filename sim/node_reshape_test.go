package sim_test

import (
	"errors"
	"testing"
	"time"

	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/node/state"
	"github.com/jindou-im/jindou/sim/world"
)

// A system uid added just before a crash that lost the unsynced applied
// state (keep 0%: only the synced raft log survives) is replayed from the
// log at start-up, without effects; the node must then use it, not the set
// it read before the replay. Likewise a removal. (The later command makes
// the commit index that covers both changes durable: its entry's synced
// write carries the HardState, so the changes are replayed at start-up
// rather than committed again through raft.)
func TestSystemUIDChangesBeforeACrashHoldAfterTheReplay(t *testing.T) {
	w := world.New(t, 11)
	n := w.AddNode(1, node.Config{})
	n.MustCall(node.ChannelUpsert{Channel: g1, Subscribers: []string{"a", "b"}})
	n.MustCall(node.SystemUIDs{Op: "add", UIDs: []string{"old"}})
	n.Stop() // a graceful stop syncs the applied state: "old" is durable there
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	n.MustCall(node.SystemUIDs{Op: "add", UIDs: []string{"new"}})
	n.MustCall(node.SystemUIDs{Op: "remove", UIDs: []string{"old"}})
	n.MustCall(node.ChannelUpsert{Channel: node.ChannelKey{Type: proto.ChannelGroup, ID: "g2"}})
	n.Crash(0)
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	awaitReady(t, n)
	if got := n.MustCall(node.SystemUIDs{}).([]string); len(got) != 1 || got[0] != "new" {
		t.Fatalf("system uids after the replay: %v, want [new]", got)
	}
	for _, c := range []struct {
		uid  string
		want proto.ReasonCode
	}{{"new", proto.ReasonSuccess}, {"old", proto.ReasonSubscriberNotExist}} {
		cl := w.Connected(c.uid, "1")
		in := watch(cl)
		cl.Send("g1", proto.ChannelGroup, "m-"+c.uid, []byte("hi"), 0, nil)
		w.Until(c.uid+"'s SENDACK", func() bool { return len(in.acks) == 1 })
		if got := in.acks[0].ReasonCode; got != c.want {
			t.Errorf("%s (a system uid: %v) sending to a group it is not in: reason %d, want %d", c.uid, c.uid == "new", got, c.want)
		}
	}
}

// Every message id has one layout, stored or not: the milliseconds since
// state.MessageIDEpochMs, the channel's slot, a counter; and ids of one
// slot increase whether the message is stored or no_persist.
func TestNoPersistMessagesTakeIdsOfTheStoredLayout(t *testing.T) {
	w := world.New(t, 12)
	n := w.AddNode(1, node.Config{Slots: 8})
	a, b := w.Connected("a", "1"), w.Connected("b", "1")
	aIn, bIn := watch(a), watch(b)
	flags := []proto.Flags{0, proto.FlagNoPersist, 0, proto.FlagNoPersist, proto.FlagNoPersist, 0}
	for i, f := range flags {
		a.Send("b", proto.ChannelPerson, "", []byte{byte(i)}, f, nil)
		w.Until("the SENDACK", func() bool { return len(aIn.acks) == i+1 && len(bIn.recvs) == i+1 })
	}
	ch := node.ChannelKey{Type: proto.ChannelPerson, ID: node.PersonChannelID("a", "b")}
	slot := state.SlotOfChannel(ch, 8)
	nowMs := n.Proc().Clock().Wall().UnixMilli() - state.MessageIDEpochMs
	var last int64
	for i, r := range bIn.recvs {
		id := r.MessageID
		if id != aIn.acks[i].MessageID {
			t.Fatalf("message %d: RECV id %d, SENDACK id %d", i, id, aIn.acks[i].MessageID)
		}
		if got := state.SlotOfMessageID(id); got != slot {
			t.Errorf("message %d (flags %v): id %d has slot %d, want the channel's slot %d", i, flags[i], id, got, slot)
		}
		if ms := id >> 22; ms > nowMs || ms < nowMs-60_000 {
			t.Errorf("message %d (flags %v): id %d says %d ms since the epoch; the clock says %d", i, flags[i], id, ms, nowMs)
		}
		if id <= last {
			t.Errorf("message %d (flags %v): id %d not above the previous %d", i, flags[i], id, last)
		}
		last = id
	}
}

// A SEND whose slot does not answer within SendTimeout (its commit held on
// the disk) gets SENDACK SystemError, and nothing else: once the disk
// answers, the late outcome is dropped, and a retry with the same
// client_msg_no is answered with the message that did land.
func TestUnansweredSendFailsAfterSendTimeoutAndItsRetryIsDeduplicated(t *testing.T) {
	w := world.New(t, 13)
	n := w.AddNode(1, node.Config{SendTimeout: 2 * time.Second})
	a := w.Connected("a", "1")
	in := watch(a)
	awaitReady(t, n)
	n.HoldDisk()
	sentAt := w.Now()
	a.Send("b", proto.ChannelPerson, "held", []byte("x"), 0, nil)
	w.Until("the SENDACK", func() bool { return len(in.acks) == 1 })
	if got, waited := in.acks[0].ReasonCode, w.Now()-sentAt; got != proto.ReasonSystemError || waited < 2*time.Second {
		t.Fatalf("held SEND answered with reason %d after %v, want SystemError after the 2s timeout", got, waited)
	}
	n.ReleaseDisk()
	w.RunFor(time.Second)
	if len(in.acks) != 1 {
		t.Fatalf("a timed-out SEND was answered again: %+v", in.acks[1:])
	}
	a.Send("b", proto.ChannelPerson, "held", []byte("x"), 0, nil)
	w.Until("the retry's SENDACK", func() bool { return len(in.acks) == 2 })
	if r := in.acks[1]; r.ReasonCode != proto.ReasonSuccess || r.MessageSeq != 1 {
		t.Fatalf("retry answered %+v, want success at seq 1", r)
	}
	if msgs := syncAll(t, n, "a", node.ChannelKey{Type: proto.ChannelPerson, ID: "b"}); len(msgs) != 1 {
		t.Fatalf("%d messages stored, want the one", len(msgs))
	}
}

// An API request whose loops do not answer within RequestTimeout fails
// with node.ErrTimeout instead of waiting for ever.
func TestUnansweredAPIRequestFailsAfterRequestTimeout(t *testing.T) {
	w := world.New(t, 14)
	n := w.AddNode(1, node.Config{RequestTimeout: 3 * time.Second})
	awaitReady(t, n)
	n.HoldDisk()
	start := w.Now()
	_, err := n.Call(node.ChannelUpsert{Channel: g1, Subscribers: []string{"a"}})
	if !errors.Is(err, node.ErrTimeout) || w.Now()-start < 3*time.Second {
		t.Fatalf("a request held on the disk ended after %v with %v, want node.ErrTimeout after 3s", w.Now()-start, err)
	}
	n.ReleaseDisk()
	if got, err := n.Call(node.ListGet{Channel: g1, List: "whitelist"}); err != nil || len(got.([]string)) != 0 {
		t.Fatalf("the node after the timeout: %v, %v", got, err)
	}
}

// While a node's slots cannot catch up (its first commit is held on the
// disk), requests wait in order up to Config.DeferredLimit; past it they
// are refused at once with node.ErrOverloaded, and once the disk answers
// the ones that waited are served.
func TestRequestsPastTheDeferredLimitAreRefusedAndTheRestServed(t *testing.T) {
	w := world.New(t, 15)
	n := w.AddNode(1, node.Config{Slots: 1, SlotLoops: 1, DeferredLimit: 3})
	n.HoldDisk() // before the first Ready is persisted: the slot never catches up
	errs := make([]error, 5)
	answered := 0
	for i := range errs {
		req := node.SendMessage{FromUID: "a", Channel: node.ChannelKey{Type: proto.ChannelPerson, ID: "b"}, Payload: []byte{byte(i)}}
		n.Submit(req, func(_ any, err error) { errs[i] = err; answered++ })
	}
	w.Until("the refusals", func() bool { return answered == 2 })
	for i, err := range errs[3:] {
		if !errors.Is(err, node.ErrOverloaded) {
			t.Fatalf("request %d past the limit answered %v, want node.ErrOverloaded", 3+i, err)
		}
	}
	n.ReleaseDisk()
	w.Until("the waiting requests", func() bool { return answered == 5 })
	for i, err := range errs[:3] {
		if err != nil {
			t.Fatalf("request %d within the limit failed: %v", i, err)
		}
	}
	if st := n.MustCall(node.Stats{}).(node.StatsReply); st.DeferredHigh != 3 || st.Overloaded != 2 {
		t.Fatalf("stats: deferred high-water %d, overloaded %d; want 3 and 2", st.DeferredHigh, st.Overloaded)
	}
}
