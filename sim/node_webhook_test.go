package sim_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/sim/world"
)

func webhookConfig() node.Config {
	return node.Config{Slots: 8, Webhook: node.WebhookConfig{
		URL: world.ReceiverURL, Timeout: 300 * time.Millisecond, BatchSize: 10,
		BatchInterval: 50 * time.Millisecond, MaxBackoff: 400 * time.Millisecond,
	}}
}

func storedLogs(t *testing.T, n *world.Node, uid string, chs ...node.ChannelKey) map[node.ChannelKey][]*node.Message {
	out := map[node.ChannelKey][]*node.Message{}
	for _, ch := range chs {
		out[ch] = syncAll(t, n, uid, ch)
	}
	return out
}

func TestWebhookDeliversEveryStoredMessageInOrderAfterAnOutageAndACrash(t *testing.T) {
	w := world.New(t, 7)
	rcv := w.AddReceiver()
	n := w.AddNode(1, webhookConfig())
	awaitReady(t, n)
	g2 := node.ChannelKey{Type: proto.ChannelGroup, ID: "g2"}
	for _, ch := range []node.ChannelKey{g1, g2} {
		n.MustCall(node.ChannelUpsert{Channel: ch, Subscribers: []string{"a", "b"}})
	}
	rcv.Mode = world.ReceiverError
	for i := range 40 {
		ch := []node.ChannelKey{g1, g2}[i%2]
		n.MustCall(node.SendMessage{FromUID: "a", Channel: ch, ClientMsgNo: fmt.Sprint("m", i), Payload: []byte(fmt.Sprint("p", i))})
	}
	w.RunFor(2 * time.Second)
	st := n.MustCall(node.Stats{}).(node.StatsReply)
	if st.WebhookBacklog != 40 || st.WebhookFailures == 0 || st.WebhookOldestAge < time.Second {
		t.Fatalf("during the outage: backlog %d (want 40), failures %d, oldest %v", st.WebhookBacklog, st.WebhookFailures, st.WebhookOldestAge)
	}
	if len(rcv.Notified) != 0 {
		t.Fatalf("a failing receiver kept %d messages", len(rcv.Notified))
	}
	rcv.Mode = world.ReceiverSlow // kept, but answered after the timeout: sent again
	rcv.SlowDelay = time.Second
	w.RunFor(500 * time.Millisecond)
	n.Crash(0)
	rcv.Mode = world.ReceiverUp
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	logs := storedLogs(t, n, "a", g1, g2)
	w.Until("the receiver has every message", func() bool { return rcv.HasAll(logs) })
	res := rcv.CheckNotified(logs)
	if len(res.Failures) > 0 || res.Missing > 0 {
		t.Fatalf("failures %v, missing %d", res.Failures, res.Missing)
	}
	if res.Duplicates == 0 {
		t.Fatal("the messages kept by the slow receiver were not sent again after the crash")
	}
	w.Until("the backlog drains", func() bool {
		st = n.MustCall(node.Stats{}).(node.StatsReply)
		return st.WebhookBacklog == 0 && st.WebhookOldestAge == 0
	})
}

func TestWebhookOfflineNamesRecipientsWithoutAnOnlineMasterDevice(t *testing.T) {
	w := world.New(t, 3)
	rcv := w.AddReceiver()
	cfg := webhookConfig()
	cfg.TokenAuth = true // without it every login is a slave one, as in WuKongIM
	n := w.AddNode(1, cfg)
	awaitReady(t, n)
	n.MustCall(node.ChannelUpsert{Channel: g1, Subscribers: []string{"alice", "bob", "carol", "dave", "erin"}})
	connect := func(uid string, level proto.DeviceLevel) *world.Client {
		n.MustCall(node.UserToken{UID: uid, Token: "t", DeviceFlag: uint8(proto.DeviceApp), DeviceLevel: uint8(level)})
		c := w.Client(uid, "phone")
		c.Token = "t"
		return w.Connect(c)
	}
	alice := connect("alice", proto.DeviceMaster) // the sender: never named
	connect("bob", proto.DeviceMaster)            // online on a master device
	connect("carol", proto.DeviceMaster)
	connect("erin", proto.DeviceSlave) // online on a slave device only: offline for pushes
	alice.Send("g1", proto.ChannelGroup, "m1", []byte("hi"), 0, nil)
	w.Until("msg.offline arrives", func() bool { return len(rcv.Offline) == 1 && len(rcv.Notified) == 1 })
	if got := rcv.Offline[0].ToUIDs; !slices.Equal(got, []string{"dave", "erin"}) {
		t.Fatalf("msg.offline names %v, want [dave erin]", got)
	}
}

func TestWebhookOnlineStatusReportsConnectsAndDisconnectsInWuKongIMsFormat(t *testing.T) {
	w := world.New(t, 5)
	rcv := w.AddReceiver()
	cfg := webhookConfig()
	cfg.Webhook.Events = []string{node.EventOnlineStatus}
	n := w.AddNode(1, cfg)
	awaitReady(t, n)
	a := w.Connected("alice", "phone")
	w.Connect(w.NewClient(world.ClientSpec{UID: "alice", Device: "laptop", Flag: proto.DeviceWeb, Version: 2}))
	w.RunFor(100 * time.Millisecond)
	a.Close()
	w.Until("three lines arrive", func() bool { return len(rcv.Status) == 3 })
	var got []world.StatusLine
	for _, l := range rcv.Status {
		s, err := world.ParseStatusLine(l)
		if err != nil {
			t.Fatal(err)
		}
		s.Conn = 0
		got = append(got, s)
	}
	want := []world.StatusLine{
		{UID: "alice", Flag: 0, Online: true, DeviceCount: 1, TotalCount: 1},
		{UID: "alice", Flag: uint8(proto.DeviceWeb), Online: true, DeviceCount: 1, TotalCount: 2},
		{UID: "alice", Flag: 0, Online: false, DeviceCount: 0, TotalCount: 1},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("lines %v, want %v", rcv.Status, want)
	}
	if len(rcv.Notified) != 0 {
		t.Fatalf("msg.notify sent while only user.onlinestatus is focused")
	}
}

// lines counts log records by message.
type lines struct{ n map[string]int }

func (l *lines) Enabled(context.Context, slog.Level) bool { return true }
func (l *lines) Handle(_ context.Context, r slog.Record) error {
	l.n[r.Level.String()+" "+r.Message]++
	return nil
}
func (l *lines) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *lines) WithGroup(string) slog.Handler      { return l }

func TestWebhookFailuresAreLoggedOncePerOutageNotPerAttempt(t *testing.T) {
	log := &lines{n: map[string]int{}}
	w := world.New(t, 9, world.WithLog(slog.New(log)))
	rcv := w.AddReceiver()
	cfg := webhookConfig()
	cfg.SlotLoops = 1
	n := w.AddNode(1, cfg)
	awaitReady(t, n)
	n.MustCall(node.ChannelUpsert{Channel: g1, Subscribers: []string{"a"}})
	rcv.Mode = world.ReceiverDown
	n.MustCall(node.SendMessage{FromUID: "a", Channel: g1, Payload: []byte("x")})
	w.RunFor(10 * time.Second)
	st := n.MustCall(node.Stats{}).(node.StatsReply)
	failing := "WARN webhook: the receiver failed; retrying with backoff until it answers 200"
	if st.WebhookFailures < 10 || log.n[failing] != 1 {
		t.Fatalf("%d failed POSTs logged %d times, want once: %v", st.WebhookFailures, log.n[failing], log.n)
	}
	rcv.Mode = world.ReceiverUp
	w.Until("delivered", func() bool { return len(rcv.Notified) == 1 })
	rcv.Mode = world.ReceiverError
	n.MustCall(node.SendMessage{FromUID: "a", Channel: g1, Payload: []byte("y")})
	w.RunFor(5 * time.Second)
	if log.n["INFO webhook: the receiver answers again"] != 1 || log.n[failing] != 2 {
		t.Fatalf("a second outage: %v", log.n)
	}
}
