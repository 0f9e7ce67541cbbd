package linearize

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	g  = "2:g"     // a group channel
	pc = "1:u1@u2" // a person channel
)

// gLog is the stored log of g in the base history.
var gLog = []Message{msg(1, 101, "u1", "m1"), msg(2, 102, "u2", "m2"), msg(3, 103, "u3", "m3")}

// pcLog is the stored log of pc in the base history.
var pcLog = []Message{msg(1, 201, "u1", "p1"), msg(2, 202, "u2", "p2")}

// base is a clean history over two channels: concurrent sends, a send
// whose outcome is unknown and that was stored, one unknown and not stored,
// a refused one, a deduplicated resend, syncs up and down, max-seq reads and
// pushes with a resend. Final logs are left to the test.
func base() hist {
	h := newHist()
	h.sendOK("c1", g, "u1", "m1", 0, 10, 101, 1)
	h.sendOK("c2", g, "u2", "m2", 5, 15, 102, 2) // overlaps m1
	h.sendUnknown("c3", g, "u3", "m3", 6, 20)    // stored at seq 3
	h.sendUnknown("c4", g, "u4", "m4", 7, 9)     // never stored
	h.sendFailed("c5", g, "u5", "m5", 1, 2)
	h.sync("c1", SyncRequest{Channel: g, Start: 1, Mode: Up, Limit: 10}, 12, 14, pick(gLog, 1, 2))
	h.maxSeq("c1", g, 16, 17, 2)                  // m3 may come later
	h.sendOK("c2", g, "u2", "m2", 20, 22, 102, 2) // a resend, answered with the original
	h.sync("c1", SyncRequest{Channel: g, Mode: Down, Limit: 2}, 30, 31, pick(gLog, 2, 3))
	h.sync("c5", SyncRequest{Channel: g, Start: 2, Mode: Down, Limit: 10}, 32, 33, pick(gLog, 1, 2))
	h.sync("c4", SyncRequest{Channel: g, Start: 2, End: 3, Mode: Up}, 34, 36, pick(gLog, 2))
	h.maxSeq("c5", g, 34, 35, 3)

	h.sendOK("d1", pc, "u1", "p1", 0, 4, 201, 1)
	h.maxSeq("d2", pc, 1, 2, 0)                                               // before p1 took effect
	h.sync("d2", SyncRequest{Channel: pc, Mode: Up}, 3, 8, pick(pcLog, 1, 2)) // p2 concurrent
	h.sendOK("d1", pc, "u2", "p2", 5, 6, 202, 2)

	h.Received(ms(11), "k1", g, gLog[0])
	h.Received(ms(16), "k1", g, gLog[1])
	h.Received(ms(25), "k1", g, gLog[2])
	h.Received(ms(40), "k1", g, gLog[1]) // a resend of an earlier RECV
	h.Subscribed("k1", g, 0, Forever)
	return h
}

func (h hist) finish() hist {
	h.FinalLog(g, gLog)
	h.FinalLog(pc, pcLog)
	return h
}

func TestCleanHistoryPasses(t *testing.T) {
	rep := check(t, base().finish().Recorder, Options{DeliveryBound: ms(5)})
	mustPass(t, rep)
	want := Report{OK: true, Ops: 16, Sends: 8, Acked: 5, Failed: 1, Unknown: 2, Syncs: 5, MaxSeqs: 3,
		Pushes: 4, UnknownPresent: 1, UnknownAbsent: 1, Channels: 2, Linearizable: "Ok"}
	rep.CheckDuration = 0
	if !reportsEqual(rep, want) {
		t.Fatalf("counts:\n got %s\nwant %s", rep, want)
	}
	if rep.Visualization != "" {
		t.Fatalf("a passing check wrote %s", rep.Visualization)
	}
	t.Log(rep)
}

func reportsEqual(a, b Report) bool {
	return a.OK == b.OK && a.Ops == b.Ops && a.Sends == b.Sends && a.Acked == b.Acked && a.Failed == b.Failed &&
		a.Unknown == b.Unknown && a.Syncs == b.Syncs && a.MaxSeqs == b.MaxSeqs && a.Pushes == b.Pushes &&
		a.UnknownPresent == b.UnknownPresent && a.UnknownAbsent == b.UnknownAbsent && a.Channels == b.Channels &&
		a.Linearizable == b.Linearizable && len(a.Violations) == len(b.Violations)
}

func TestUnknownSendThatTookEffectLinearizesAfterItsReturn(t *testing.T) {
	// m3's client gave up at 20, but the first read that sees it is at 30:
	// the resolved append is open-ended, so this is fine.
	h := newHist()
	h.sendUnknown("c1", g, "u1", "m1", 0, 1)
	h.maxSeq("c2", g, 5, 6, 0)
	h.maxSeq("c2", g, 10, 11, 1)
	h.FinalLog(g, []Message{msg(1, 7, "u1", "m1")})
	mustPass(t, check(t, h.Recorder, Options{}))
}

func TestUnknownSendAbsentFromTheLogIsDropped(t *testing.T) {
	h := newHist()
	h.sendUnknown("c1", g, "u1", "m1", 0, 1)
	h.sendOK("c1", g, "u1", "m2", 2, 3, 8, 1) // seq 1: m1 never happened
	h.maxSeq("c2", g, 10, 11, 1)
	h.FinalLog(g, []Message{msg(1, 8, "u1", "m2")})
	rep := check(t, h.Recorder, Options{})
	mustPass(t, rep)
	if rep.UnknownAbsent != 1 || rep.UnknownPresent != 0 {
		t.Fatalf("unknown send not resolved absent: %s", rep)
	}
}

func TestLostAcknowledgedSendIsCaught(t *testing.T) {
	h := base()
	h.sendOK("c9", g, "u9", "m9", 50, 60, 109, 4)
	h.finish() // gLog ends at seq 3
	rep := check(t, h.Recorder, Options{})
	mustCatch(t, rep, LostAcknowledged, g, "seq 4", "expected id 109", "found nothing", "client c9")
	if rep.Visualization == "" {
		t.Fatalf("a failed check wrote no visualization: %s", rep)
	}
	if _, err := os.Stat(rep.Visualization); err != nil {
		t.Fatal(err)
	}
}

func TestAcknowledgedSendLostAfterRestartIsCaught(t *testing.T) {
	h := base()
	// At 12 ms, only m1 (acked at 10) was due; at 25 ms m2 was too.
	h.Restarted(ms(12), "n1", ChannelLog{Channel: g, Messages: pick(gLog, 1)})
	h.Restarted(ms(25), "n2", ChannelLog{Channel: g, Messages: pick(gLog, 1)})
	rep := check(t, h.finish().Recorder, Options{})
	mustCatch(t, rep, LostAcknowledged, g, "seq 2", "node n2 restarted at 25ms", "found nothing")
	for _, v := range rep.Violations {
		if strings.Contains(v.Detail, "node n1") {
			t.Fatalf("the log read after n1's restart held everything acked before it: %s", v)
		}
	}
	if len(rep.Violations) != 2 { // the ack of m2 and that of its resend
		t.Fatalf("want 2 violations:\n%s", rep)
	}
}

func TestAcknowledgedSendOverwrittenIsCaught(t *testing.T) {
	h := base()
	log := slices.Clone(gLog)
	log[1] = msg(2, 999, "u9", "m9") // a different message took seq 2
	h.FinalLog(g, log)
	h.FinalLog(pc, pcLog)
	rep := check(t, h.Recorder, Options{})
	mustCatch(t, rep, LostAcknowledged, g, "expected id 102 at seq 2", "found id 999")
	mustCatch(t, rep, TwoMessagesAtSeq, g, "id 102", "id 999", "final log")
	mustCatch(t, rep, Phantom, g, "id 999")
	mustCatch(t, rep, NotLinearizable, g)
}

func TestDuplicateStoredIsCaught(t *testing.T) {
	h := base()
	h.FinalLog(g, append(slices.Clone(gLog), msg(4, 104, "u2", "m2"))) // m2 stored again
	h.FinalLog(pc, pcLog)
	rep := check(t, h.Recorder, Options{})
	mustCatch(t, rep, DuplicateStored, g, `client_msg_no "m2" of u2 at seq 2 (id 102) and again at seq 4 (id 104)`)
}

func TestSameMessageIDAtTwoSeqsIsCaught(t *testing.T) {
	h := base()
	h.FinalLog(g, append(slices.Clone(gLog), msg(4, 101, "u1", "m1x")))
	h.FinalLog(pc, pcLog)
	mustCatch(t, check(t, h.Recorder, Options{}), DuplicateStored, g, "message id 101 at seq 1 and again at seq 4")
}

func TestGapIsCaught(t *testing.T) {
	h := base()
	h.sendOK("c9", g, "u9", "m9", 50, 60, 109, 5)
	h.FinalLog(g, append(slices.Clone(gLog), msg(5, 109, "u9", "m9"))) // no seq 4
	h.FinalLog(pc, pcLog)
	rep := check(t, h.Recorder, Options{})
	mustCatch(t, rep, Gap, g, "the final log lacks seq 4", "jumps from 3 to 5")
	mustCatch(t, rep, NotLinearizable, g, "op 16", "seq 5")
}

func TestTwoMessagesAtOneSeqIsCaught(t *testing.T) {
	h := base()
	h.Received(ms(41), "k2", g, msg(3, 333, "u3", "m3")) // a push with another id at seq 3
	rep := check(t, h.finish().Recorder, Options{})
	mustCatch(t, rep, TwoMessagesAtSeq, g, "seq 3", "id 103", "id 333", "connection k2")
}

func TestStaleSyncIsCaught(t *testing.T) {
	h := base()
	// m1 and m2 were acked at 10 and 15; a sync called at 16 misses m2.
	h.sync("c9", SyncRequest{Channel: g, Start: 1, Mode: Up, Limit: 10}, 16, 18, pick(gLog, 1))
	rep := check(t, h.finish().Recorder, Options{})
	mustCatch(t, rep, NotLinearizable, g, "sync", "up start 1 end 0 limit 10 → seq 1")
	if rep.Linearizable != "Illegal" {
		t.Fatalf("porcupine said %s", rep.Linearizable)
	}
	if len(rep.Violations) != 1 {
		t.Fatalf("want only the linearizability violation:\n%s", rep)
	}
}

func TestSyncOfWrongRangeIsCaught(t *testing.T) {
	// Down from 2 with limit 1 is seq 2 alone, whatever the tail.
	h := base()
	h.sync("c9", SyncRequest{Channel: g, Start: 2, Mode: Down, Limit: 1}, 50, 51, pick(gLog, 1))
	mustCatch(t, check(t, h.finish().Recorder, Options{}), NotLinearizable, g, "down start 2 end 0 limit 1 → seq 1")
}

func TestStaleMaxSeqIsCaught(t *testing.T) {
	h := base()
	h.maxSeq("c9", g, 16, 17, 1) // seq 2 was acked at 15
	mustCatch(t, check(t, h.finish().Recorder, Options{}), NotLinearizable, g, "max-seq", "→ 1)")
}

func TestMaxSeqGoingBackwardsIsCaught(t *testing.T) {
	h := base()
	h.maxSeq("c8", g, 37, 38, 2) // c5 read 3 at [34, 35]
	mustCatch(t, check(t, h.finish().Recorder, Options{}), NotLinearizable, g, "→ 2)")
}

func TestOutOfOrderPushIsCaught(t *testing.T) {
	h := base()
	h.Received(ms(10), "k2", g, gLog[1])
	h.Received(ms(11), "k2", g, gLog[0])
	mustCatch(t, check(t, h.finish().Recorder, Options{}), PushOutOfOrder, g,
		"connection k2 got seq 1 id 101 at 11ms after seq 2 id 102 at 10ms")
}

func TestFailedSendStoredIsCaught(t *testing.T) {
	h := base()
	h.FinalLog(g, append(slices.Clone(gLog), msg(4, 105, "u5", "m5")))
	h.FinalLog(pc, pcLog)
	mustCatch(t, check(t, h.Recorder, Options{}), FailedButStored, g, "seq 4", "failed: reason 11")
}

func TestPhantomMessageIsCaught(t *testing.T) {
	h := base()
	h.FinalLog(g, append(slices.Clone(gLog), msg(4, 444, "u4", "nobody")))
	h.FinalLog(pc, pcLog)
	mustCatch(t, check(t, h.Recorder, Options{}), Phantom, g, "id 444", "no recorded send")
}

func TestUndeliveredMessageIsCaught(t *testing.T) {
	h := base()
	h.Subscribed("k3", g, ms(1), Forever)  // online from before m2's call: owed m2 and its resend
	h.Subscribed("k4", g, ms(1), ms(16))   // went away before m2 was due
	h.Subscribed("k5", g, ms(10), Forever) // came online after m1's call: owed only m2
	h.Received(ms(16), "k5", g, gLog[1])
	rep := check(t, h.finish().Recorder, Options{DeliveryBound: ms(5)})
	mustCatch(t, rep, NotDelivered, g, "connection k3", "never got it", "id 102")
	for _, v := range rep.Violations {
		if v.Kind != NotDelivered || !strings.Contains(v.Detail, "connection k3") {
			t.Fatalf("unexpected: %s", v)
		}
	}
	if len(rep.Violations) != 2 {
		t.Fatalf("want 2 violations (m2's ack and its resend's):\n%s", rep)
	}
}

func TestLateDeliveryIsCaught(t *testing.T) {
	h := base()
	// k1 got each acknowledged message within 1 ms of its ack.
	mustPass(t, check(t, h.finish().Recorder, Options{DeliveryBound: ms(1)}))
	h.Subscribed("k6", g, 0, Forever)
	h.Received(ms(30), "k6", g, gLog[0])
	h.Received(ms(30), "k6", g, gLog[1])
	rep := check(t, h.Recorder, Options{DeliveryBound: ms(10)})
	mustCatch(t, rep, NotDelivered, g, "connection k6", "got it only at 30ms", "due by 20ms")
}

func TestChannelWithoutFinalLogIsReported(t *testing.T) {
	h := base()
	h.FinalLog(g, gLog) // not pc
	rep := check(t, h.Recorder, Options{})
	mustCatch(t, rep, FinalLogMissing, pc)
	if rep.Channels != 1 {
		t.Fatalf("checked %d channels", rep.Channels)
	}
}

func TestUndecidedSearchFailsTheCheck(t *testing.T) {
	// The search is stalled until its time limit cancels it, so porcupine
	// cannot decide, whatever the machine's speed.
	rep := check(t, base().finish().Recorder, Options{Timeout: time.Millisecond, stall: true})
	if rep.Linearizable != "Unknown" {
		t.Fatalf("porcupine decided (%s) although every step waited for the time limit", rep.Linearizable)
	}
	mustCatch(t, rep, CheckTimedOut, "*", "did not decide within 1ms")
	if rep.Visualization == "" {
		t.Fatalf("an undecided check wrote no visualization: %s", rep)
	}
}

func TestReportIsDeterministic(t *testing.T) {
	run := func() string {
		h := base()
		h.sync("c9", SyncRequest{Channel: g, Start: 1, Mode: Up, Limit: 10}, 16, 18, pick(gLog, 1))
		h.Received(ms(41), "k2", g, msg(3, 333, "u3", "m3"))
		h.FinalLog(g, append(slices.Clone(gLog), msg(5, 444, "u4", "nobody")))
		h.FinalLog(pc, pcLog)
		rep := h.Check(Options{VisualizeDir: t.TempDir()})
		rep.CheckDuration = 0
		rep.Visualization = rep.Visualization[strings.LastIndex(rep.Visualization, "/"):]
		return rep.String()
	}
	first := run()
	for range 5 {
		if again := run(); again != first {
			t.Fatalf("two reports of one history differ:\n%s\n%s", first, again)
		}
	}
}

func TestRetryAnsweredFromDedupeOwesNoPushToLaterSubscribers(t *testing.T) {
	ms := time.Millisecond
	r := NewRecorder()
	// The first attempt is stored, but its connection dies before the ack.
	op := r.CallSend(1*ms, "a/1", Send{Channel: "2:g", FromUID: "a", ClientMsgNo: "m", Conn: "a#1"})
	r.Unknown(op, 5*ms)
	// Bob connects after that, and a's retry is answered from the dedupe
	// window: nothing is pushed again; bob catches up by sync.
	r.Subscribed("b#1", "2:g", 10*ms, Forever)
	op = r.CallSend(20*ms, "a/2", Send{Channel: "2:g", FromUID: "a", ClientMsgNo: "m", Conn: "a#2"})
	r.SendOK(op, 25*ms, 7, 1)
	r.FinalLog("2:g", []Message{{Seq: 1, MessageID: 7, FromUID: "a", ClientMsgNo: "m"}})
	if rep := r.Check(Options{DeliveryBound: time.Second, VisualizeDir: t.TempDir()}); !rep.OK {
		t.Fatal(rep)
	}
	// But a connection online since before the first attempt is owed it.
	r = NewRecorder()
	r.Subscribed("b#1", "2:g", 0, Forever)
	op = r.CallSend(1*ms, "a/1", Send{Channel: "2:g", FromUID: "a", ClientMsgNo: "m", Conn: "a#1"})
	r.Unknown(op, 5*ms)
	op = r.CallSend(20*ms, "a/2", Send{Channel: "2:g", FromUID: "a", ClientMsgNo: "m", Conn: "a#2"})
	r.SendOK(op, 25*ms, 7, 1)
	r.FinalLog("2:g", []Message{{Seq: 1, MessageID: 7, FromUID: "a", ClientMsgNo: "m"}})
	if rep := r.Check(Options{DeliveryBound: time.Second, VisualizeDir: t.TempDir()}); rep.OK {
		t.Fatal("a subscriber online throughout never got the message, and the check passed")
	}
}
