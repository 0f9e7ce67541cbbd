package sim_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/sim/world"
)

// While a node's disk is full (node/diskfault.go): a SEND already in a
// Ready waits, new SENDs and API writes are refused at once (SENDACK 15,
// node.ErrDiskFull), reads answer, /readyz's Ready is false, and one line
// is logged as the episode starts. Once space returns the node takes
// writes again within diskProbeMaxDelay without a restart, the waiting
// SEND is stored and acknowledged, one line logs the end, and everything
// acknowledged survives a power loss.
func TestFullDiskRefusesWritesServesReadsAndRecoversWithoutARestart(t *testing.T) {
	var logs bytes.Buffer
	w := world.New(t, 41, world.WithLog(slog.New(slog.NewTextHandler(&logs, nil))))
	n := w.AddNode(1, node.Config{Slots: 4, SlotLoops: 2})
	a := w.Connected("a", "1")
	in := watch(a)
	awaitReady(t, n)
	ch := node.ChannelKey{Type: proto.ChannelPerson, ID: node.PersonChannelID("a", "b")}
	ack := func(what string, i int) *proto.Sendack {
		t.Helper()
		w.Until(what, func() bool { return len(in.acks) > i })
		return in.acks[i]
	}
	a.Send("b", proto.ChannelPerson, "before", []byte("1"), 0, nil)
	if r := ack("the first SENDACK", 0); r.ReasonCode != proto.ReasonSuccess {
		t.Fatalf("before the disk filled: reason %d", r.ReasonCode)
	}

	n.FillDisk()
	a.Send("b", proto.ChannelPerson, "stuck", []byte("2"), 0, nil)
	w.RunFor(200 * time.Millisecond) // its commit fails: the episode starts
	if len(in.acks) != 1 {
		t.Fatalf("a SEND whose Ready was not persisted was answered: %+v", in.acks[1])
	}
	sentAt := w.Now()
	a.Send("b", proto.ChannelPerson, "refused", []byte("3"), 0, nil)
	if r := ack("the refusal", 1); r.ReasonCode != proto.ReasonSystemError || w.Now()-sentAt > 100*time.Millisecond {
		t.Fatalf("a SEND on a full disk: reason %d after %v, want %d at once", r.ReasonCode, w.Now()-sentAt, proto.ReasonSystemError)
	}
	if _, err := n.Call(node.SendMessage{FromUID: "a", Channel: node.ChannelKey{Type: proto.ChannelPerson, ID: "b"}, Payload: []byte("api")}); !errors.Is(err, node.ErrDiskFull) {
		t.Fatalf("an API send on a full disk: %v, want node.ErrDiskFull", err)
	}
	if msgs := syncAll(t, n, "a", ch); len(msgs) != 1 || string(msgs[0].Payload) != "1" {
		t.Fatalf("reading on a full disk: %d messages, want the one stored before", len(msgs))
	}
	r := n.MustCall(node.Ready{}).(node.ReadyReply)
	st := n.MustCall(node.Stats{}).(node.StatsReply)
	if r.Ready || !strings.Contains(r.Reason, "disk full") || !st.DiskFull || st.DiskFullRefused < 2 || st.DiskFullEpisodes != 1 {
		t.Fatalf("on a full disk: ready %+v, stats full=%v refused=%d episodes=%d", r, st.DiskFull, st.DiskFullRefused, st.DiskFullEpisodes)
	}

	w.RunFor(3 * time.Second) // the backoff reaches its longest delay
	n.FreeDisk()
	freedAt := w.Now()
	if r := ack("the waiting SEND's answer", 2); r.ReasonCode != proto.ReasonSuccess || r.MessageSeq != 2 || w.Now()-freedAt > 1100*time.Millisecond {
		t.Fatalf("the SEND that waited: reason %d seq %d, %v after space returned; want success at seq 2 within 1.1s", r.ReasonCode, r.MessageSeq, w.Now()-freedAt)
	}
	a.Send("b", proto.ChannelPerson, "after", []byte("4"), 0, nil)
	if r := ack("the SENDACK after", 3); r.ReasonCode != proto.ReasonSuccess || r.MessageSeq != 3 {
		t.Fatalf("after space returned: reason %d seq %d, want success at seq 3", r.ReasonCode, r.MessageSeq)
	}
	if r := n.MustCall(node.Ready{}).(node.ReadyReply); !r.Ready {
		t.Fatalf("not ready after space returned: %s", r.Reason)
	}
	if full, back := strings.Count(logs.String(), "disk full: refusing writes"), strings.Count(logs.String(), "disk writable again"); full != 1 || back != 1 {
		t.Fatalf("logged %d episode starts and %d ends, want one each:\n%s", full, back, logs.String())
	}

	n.Crash(0)
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	awaitReady(t, n)
	var got []string
	for _, m := range syncAll(t, n, "a", ch) {
		got = append(got, string(m.Payload))
	}
	if strings.Join(got, ",") != "1,2,4" {
		t.Fatalf("after a power loss the channel holds %v, want every acknowledged send [1 2 4] and nothing refused", got)
	}
}
