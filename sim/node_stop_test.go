package sim_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/sim/world"
)

// The graceful stop (node/stop.go): what was in flight is answered with
// its real outcome; what came after is refused and was not stored.

func TestAGracefulStopAnswersInFlightSendsWithTheirSeqAndRefusesNewOnes(t *testing.T) {
	w := world.New(t, 21)
	n := w.AddNode(1, node.Config{})
	a := w.Connected("a", "1")
	in := watch(a)
	ch := node.ChannelKey{Type: proto.ChannelPerson, ID: "b"}
	// The disk holds: these SENDs are proposed and wait for their commit.
	n.HoldDisk()
	for i := range 10 {
		a.Send("b", proto.ChannelPerson, fmt.Sprintf("before%d", i), []byte("x"), 0, nil)
	}
	w.RunFor(100 * time.Millisecond)
	srv := n.Server()
	if got := srv.SendsInFlight(); got != 10 {
		t.Fatalf("%d SENDs in flight, want 10", got)
	}
	srv.Drain()
	w.RunFor(10 * time.Millisecond)
	for i := range 5 {
		a.Send("b", proto.ChannelPerson, fmt.Sprintf("after%d", i), []byte("y"), 0, nil)
	}
	w.Until("the late SENDs refused", func() bool { return len(in.acks) == 5 })
	for _, ack := range in.acks {
		if ack.ReasonCode != proto.ReasonNodeNotMatch || ack.MessageSeq != 0 {
			t.Fatalf("a SEND during the stop answered %+v, want NodeNotMatch without a seq", ack)
		}
	}
	n.ReleaseDisk()
	w.Until("the in-flight SENDs answered", func() bool { return srv.SendsInFlight() == 0 && len(in.acks) == 15 })
	for _, ack := range in.acks[5:] {
		if ack.ReasonCode != proto.ReasonSuccess || ack.MessageSeq == 0 {
			t.Fatalf("an in-flight SEND answered %+v, want success with its seq", ack)
		}
	}
	if st := stats(t, n); st.DrainRefused != 5 {
		t.Fatalf("%d refusals counted, want 5", st.DrainRefused)
	}
	srv.Farewell()
	w.Until("DISCONNECT", func() bool { return len(in.discon) == 1 })
	n.Stop()
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	msgs := syncAll(t, n, "a", ch)
	if len(msgs) != 10 {
		t.Fatalf("%d messages stored, want the 10 acknowledged with a seq", len(msgs))
	}
	for i, m := range msgs {
		if m.ClientMsgNo != fmt.Sprintf("before%d", i) {
			t.Fatalf("stored %q at %d: a refused SEND was stored, or an acknowledged one lost", m.ClientMsgNo, i)
		}
	}
}
