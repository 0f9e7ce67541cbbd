package sim_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/sim/world"
)

// The resend budget (node/budget.go): readers that never acknowledge are
// cut, with a reason, before anybody else notices.

// stats reads a node's counters.
func stats(t *testing.T, n *world.Node) node.StatsReply {
	t.Helper()
	return n.MustCall(node.Stats{}).(node.StatsReply)
}

func TestAReaderThatNeverAcknowledgesIsCutAtItsCapAndOthersKeepReceiving(t *testing.T) {
	w := world.New(t, 11)
	n := w.AddNode(1, node.Config{ResendBufferBytes: 4 << 10, ResendInterval: time.Hour})
	n.MustCall(node.ChannelUpsert{Channel: g1, Subscribers: []string{"a", "fast", "stuck"}})
	a, fast, stuck := w.Connected("a", "1"), w.Connected("fast", "1"), w.Connected("stuck", "1")
	stuck.AutoAck = false
	fastIn, stuckIn := watch(fast), watch(stuck)
	aIn := watch(a)
	payload := []byte(strings.Repeat("x", 200))
	for i := range 60 {
		a.Send("g1", proto.ChannelGroup, fmt.Sprintf("m%d", i), payload, 0, nil)
		w.RunFor(20 * time.Millisecond) // a steady flow: a fast reader's acks keep up
	}
	w.Until("every send acked and delivered to the fast reader", func() bool { return len(aIn.acks) == 60 && len(fastIn.recvs) == 60 })
	w.Until("the stuck reader is cut", func() bool { return len(stuckIn.discon) == 1 })
	if r := stuckIn.discon[0].Reason; !strings.Contains(r, "slow reader") {
		t.Fatalf("DISCONNECT reason %q, want one naming the slow reader", r)
	}
	if got := len(stuckIn.recvs); got >= 60 || got < 4<<10/len(payload)/2 {
		t.Fatalf("the stuck reader got %d RECVs before its cut; its cap holds about %d", got, 4<<10/len(payload))
	}
	st := stats(t, n)
	if st.SlowCutsConnCap != 1 || st.SlowCutsBudget != 0 {
		t.Fatalf("cuts by cause: cap %d budget %d, want 1 and 0", st.SlowCutsConnCap, st.SlowCutsBudget)
	}
	if st.ResendBytes != 0 {
		t.Fatalf("%d bytes still held for resend after every live RECV was acknowledged", st.ResendBytes)
	}
}

func TestTheNodeBudgetCutsTheSlowestReaderFirst(t *testing.T) {
	w := world.New(t, 12)
	// One gateway loop: the whole budget is its share. Each connection's
	// own cap is above the budget: only the budget cuts.
	n := w.AddNode(1, node.Config{GatewayLoops: 1, ResendBufferBytes: 1 << 20, ResendBudgetBytes: 8 << 10, ResendInterval: time.Hour})
	n.MustCall(node.ChannelUpsert{Channel: g1, Subscribers: []string{"a", "fast", "slow", "slower"}})
	a, fast := w.Connected("a", "1"), w.Connected("fast", "1")
	slow, slower := w.Connected("slow", "1"), w.Connected("slower", "1")
	slow.AutoAck, slower.AutoAck = false, false
	aIn, fastIn, slowIn, slowerIn := watch(a), watch(fast), watch(slow), watch(slower)
	payload := []byte(strings.Repeat("y", 200))
	// slower stops acknowledging from the start; slow acknowledges the
	// first 10 (late), then stops too.
	slow.OnRecv = func(r *proto.Recv, p []byte) {
		slowIn.recvs = append(slowIn.recvs, r)
		if len(slowIn.recvs) <= 10 {
			slow.Ack(r)
		}
	}
	for i := range 80 {
		a.Send("g1", proto.ChannelGroup, fmt.Sprintf("m%d", i), payload, 0, nil)
		w.RunFor(20 * time.Millisecond) // a steady flow: a fast reader's acks keep up
	}
	w.Until("every send acked and delivered to the fast reader", func() bool { return len(aIn.acks) == 80 && len(fastIn.recvs) == 80 })
	w.Until("both slow readers cut", func() bool { return len(slowerIn.discon) == 1 && len(slowIn.discon) == 1 })
	st := stats(t, n)
	if st.SlowCutsBudget != 2 || st.SlowCutsConnCap != 0 {
		t.Fatalf("cuts by cause: budget %d cap %d, want 2 and 0", st.SlowCutsBudget, st.SlowCutsConnCap)
	}
	if len(slowerIn.recvs) >= len(slowIn.recvs) {
		t.Fatalf("the slower reader got %d RECVs, the slow one %d: the one holding the most must go first", len(slowerIn.recvs), len(slowIn.recvs))
	}
	if len(fastIn.discon) != 0 {
		t.Fatalf("the fast reader was disconnected: %+v", fastIn.discon)
	}
}

func TestAPayloadOverTheLimitIsRefusedOverEveryProtocol(t *testing.T) {
	w := world.New(t, 13)
	n := w.AddNode(1, node.Config{MaxPayloadBytes: 100})
	a := w.Connected("a", "1")
	aIn := watch(a)
	a.Send("b", proto.ChannelPerson, "big", []byte(strings.Repeat("z", 101)), 0, nil)
	a.Send("b", proto.ChannelPerson, "fits", []byte(strings.Repeat("z", 100)), 0, nil)
	w.Until("acks", func() bool { return len(aIn.acks) == 2 })
	if aIn.acks[0].ReasonCode != proto.ReasonNotAllowSend || aIn.acks[1].ReasonCode != proto.ReasonSuccess {
		t.Fatalf("acks %+v %+v: want NotAllowSend for 101 bytes, success for 100", aIn.acks[0], aIn.acks[1])
	}
	_, err := n.Call(node.SendMessage{FromUID: "a", Channel: node.ChannelKey{Type: proto.ChannelPerson, ID: "b"}, Payload: []byte(strings.Repeat("z", 101))})
	var bad *node.BadRequest
	if !errors.As(err, &bad) || bad.Field != "payload" {
		t.Fatalf("HTTP send of 101 bytes: %v, want a bad request naming payload", err)
	}
}
