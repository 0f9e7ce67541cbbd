package e2e

import (
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"
)

// TestWebhookThroughput measures (JINDOU_WEBHOOK_BENCH=<messages>, e.g.
// 20000; skipped otherwise) how fast a node POSTs a backlog of msg.notify
// messages to a local receiver and what that costs it:
//
//   - the send cost: server CPU per message stored by /message/send with
//     webhooks on (the outbox entry) and, on a second node, off;
//   - the drain: the receiver answers 500 while the messages are sent, then
//     200; messages/s from then until it has them all, and the server's
//     CPU per message meanwhile (reading the outbox and the messages,
//     JSON, the POST, the acknowledgement through raft).
//
// It asserts that every message arrives; the figures are logged.
func TestWebhookThroughput(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("JINDOU_WEBHOOK_BENCH"))
	if n <= 0 {
		t.Skip("set JINDOU_WEBHOOK_BENCH=<messages> to measure webhook throughput")
	}
	const groups = 64
	rcv := newHookReceiver(t)
	on := startNode(t, nodeOpts{env: hookNodeEnv(rcv)})
	off := startNode(t, nodeOpts{})
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sendCPU := func(p *proc) (time.Duration, time.Duration) {
		s := &hookSender{}
		for g := range groups {
			s.groups = append(s.groups, fmt.Sprint("bench-g", g))
			p.mustPost("/channel", map[string]any{"channel_id": s.groups[g], "channel_type": 2, "subscribers": []string{"sender", "reader"}}, nil)
		}
		c0, t0 := procCPU(t, p.cmd.Process.Pid), time.Now()
		if failed := s.sendAll(p, idx, 32); len(failed) > 0 {
			t.Fatalf("%d sends failed", len(failed))
		}
		return procCPU(t, p.cmd.Process.Pid) - c0, time.Since(t0)
	}
	offCPU, offTime := sendCPU(off)
	rcv.setFailing(true)
	onCPU, onTime := sendCPU(on)
	per := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(n) }
	t.Logf("sending %d messages: webhooks off %.1f µs CPU/message (%v), on (receiver failing) %.1f µs/message (%v)",
		n, per(offCPU), offTime.Round(time.Millisecond), per(onCPU), onTime.Round(time.Millisecond))

	c0, t0 := procCPU(t, on.cmd.Process.Pid), time.Now()
	rcv.setFailing(false)
	waitFor(t, 5*time.Minute, "the receiver gets every message", func() bool { return distinct(rcv.received()) >= n })
	elapsed, cpu := time.Since(t0), procCPU(t, on.cmd.Process.Pid)-c0
	rcv.mu.Lock()
	flow := rcv.lastAt.Sub(rcv.firstAt)
	rcv.mu.Unlock()
	// The first retry waits out the backoff (up to webhook_max_backoff):
	// the rate is from the first accepted POST to the last.
	t.Logf("drain: %d messages in %v after the first accepted POST = %.0f messages/s POSTed (%v from the receiver's recovery); %.1f µs server CPU per message; %d received (%d POSTs in all)",
		n, flow.Round(time.Millisecond), float64(n)/flow.Seconds(), elapsed.Round(time.Millisecond), per(cpu), len(rcv.received()), rcv.posts)
	t.Logf("extra CPU per message with webhooks: %.1f µs (send %+.1f, delivery %.1f)", per(onCPU)-per(offCPU)+per(cpu), per(onCPU)-per(offCPU), per(cpu))
}

func distinct(got []hookMsg) int {
	seen := map[int64]bool{}
	for _, m := range got {
		seen[m.MessageID] = true
	}
	return len(seen)
}
