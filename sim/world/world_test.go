package world_test

import (
	"errors"
	"testing"
	"time"

	"github.com/jindou-im/jindou/linearize"
	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/sim/world"
)

var room = node.ChannelKey{Type: proto.ChannelGroup, ID: "room"}

// The same construction, driven the same way, gives the same trace; another
// seed another.
func TestSameSeedSameConstructionSameTrace(t *testing.T) {
	run := func(seed uint64) uint64 {
		w := world.New(t, seed)
		n := w.AddNode(1, node.Config{Slots: 4})
		n.MustCall(node.ChannelUpsert{Channel: room, Subscribers: []string{"a", "b"}})
		a, b := w.Connected("a", "1"), w.Connected("b", "1")
		got := 0
		b.OnRecv = func(*proto.Recv, []byte) { got++ }
		a.Send("room", proto.ChannelGroup, "m1", []byte("hello"), 0, nil)
		w.Until("b receives", func() bool { return got == 1 })
		n.Crash(30)
		if err := n.Start(); err != nil {
			t.Fatal(err)
		}
		w.RunFor(time.Second)
		return w.Sim.TraceHash()
	}
	if a, b := run(5), run(5); a != b {
		t.Fatalf("seed 5 gave traces %016x and %016x", a, b)
	}
	if a, c := run(5), run(6); a == c {
		t.Fatalf("seeds 5 and 6 gave the same trace %016x", a)
	}
}

// Record puts the API's sends and reads into the history with their
// outcomes, and the history checks.
func TestRecordedAPICallsEnterTheHistory(t *testing.T) {
	w := world.New(t, 2)
	n := w.AddNode(1, node.Config{Slots: 2})
	n.MustCall(node.ChannelUpsert{Channel: room, Subscribers: []string{"a"}})
	done := 0
	count := func(any, error) { done++ }
	for _, req := range []node.Request{
		node.SendMessage{FromUID: "a", Channel: room, ClientMsgNo: "k1", Payload: []byte("x")},
		node.SendMessage{FromUID: "a", Channel: node.ChannelKey{Type: proto.ChannelGroup, ID: "none"}, ClientMsgNo: "k2", Payload: []byte("y")},
		node.MaxSeq{Channel: room},
		node.MessageSync{LoginUID: "a", Channel: room, PullMode: node.PullUp, Start: 1, Limit: 10},
	} {
		w.Sim.After(0, "record", func() {
			if !n.Record("api", req, count) {
				t.Error("Record on a running node reported it down")
			}
		})
		w.Until("the reply", func() bool { return done > 0 })
		done = 0
	}
	msgs, err := n.SyncAll("a", room)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("stored %d messages (%v), want 1", len(msgs), err)
	}
	w.History.FinalLog(room.String(), world.HistoryMessages(msgs))
	w.History.FinalLog("2:none", nil)
	rep := w.History.Check(linearize.Options{Timeout: 10 * time.Second})
	if !rep.OK || rep.Ops != 4 || rep.Acked != 1 || rep.Failed != 1 || rep.MaxSeqs != 1 || rep.Syncs != 1 {
		t.Fatalf("history %s: want 4 operations: 1 acknowledged send, 1 refused, a max-seq and a sync", rep)
	}
}

// A call to a node that is down fails with ErrNodeDown and does not wait;
// after a restart calls work again.
func TestCallsToADownNodeFailAtOnce(t *testing.T) {
	w := world.New(t, 3)
	n := w.AddNode(1, node.Config{Slots: 2})
	n.Crash(0)
	before := w.Now()
	if _, err := n.Call(node.Ready{}); !errors.Is(err, world.ErrNodeDown) || w.Now() != before {
		t.Fatalf("a call to a crashed node: %v after %v", err, w.Now()-before)
	}
	if n.Submit(node.Ready{}, func(any, error) { t.Error("done ran for a node that is down") }) {
		t.Fatal("Submit to a crashed node reported it up")
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	if err := n.AwaitReady(); err != nil {
		t.Fatal(err)
	}
}

// Await gives up after its limit of virtual time with a TimeoutError.
func TestAwaitGivesUpAfterItsLimit(t *testing.T) {
	w := world.New(t, 4)
	w.AddNode(1, node.Config{Slots: 2})
	before := w.Now()
	err := w.Await(2*time.Second, 10*time.Millisecond, func() bool { return false })
	if !world.IsTimeout(err) || w.Now()-before != 2*time.Second {
		t.Fatalf("Await of a condition that never holds: %v after %v", err, w.Now()-before)
	}
}
