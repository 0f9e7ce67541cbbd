package linearize

import (
	"slices"
	"testing"
)

// The planted histories of observed.go: each breaks a promise that only
// shows when what a client saw is compared with what was sent and stored.

func TestRecvOfAMessageNeverSentOrStoredIsCaught(t *testing.T) {
	h := base()
	h.Received(ms(41), "k2", g, msg(4, 999, "u9", "nobody"))
	rep := check(t, h.finish().Recorder, Options{})
	mustCatch(t, rep, NotStored, g, "a RECV on connection k2", "id 999", "seq 4, which the final log lacks")
	mustCatch(t, rep, Phantom, g, "a RECV on connection k2", "id 999", "no recorded send")
}

func TestRecvOfARefusedSendIsCaught(t *testing.T) {
	h := base() // c5's send of u5/m5 was refused
	h.Received(ms(41), "k2", g, msg(4, 105, "u5", "m5"))
	rep := check(t, h.finish().Recorder, Options{})
	mustCatch(t, rep, FailedButStored, g, "a RECV on connection k2", "id 105", "failed: reason 11")
	mustCatch(t, rep, NotStored, g, "id 105")
}

func TestRecvWithTheRightIDButAnotherSenderIsCaught(t *testing.T) {
	h := base()
	h.Received(ms(41), "k2", g, msg(2, 102, "u9", "m2"))
	rep := check(t, h.finish().Recorder, Options{})
	mustCatch(t, rep, WrongContent, g, "a RECV on connection k2", "id 102 from u9", `the final log holds it from u2 client_msg_no "m2"`)
}

func TestSyncWithTheRightIDButAnotherClientMsgNoIsCaught(t *testing.T) {
	h := base()
	got := []Message{gLog[0], msg(2, 102, "u2", "m2-other"), gLog[2]}
	h.sync("c9", SyncRequest{Channel: g, Start: 1, Mode: Up}, 50, 51, got)
	rep := check(t, h.finish().Recorder, Options{})
	mustCatch(t, rep, WrongContent, g, "the answer to", "client c9", `client_msg_no "m2-other"`)
	if rep.Linearizable != "Ok" {
		t.Fatalf("the ids are right, so porcupine should linearize it; it said %s", rep.Linearizable)
	}
}

func TestAckWhoseIDIsStoredWithAnotherSenderIsCaught(t *testing.T) {
	h := base()
	log := slices.Clone(gLog)
	log[0] = msg(1, 101, "u7", "m1") // the acked id, from another sender
	h.FinalLog(g, log)
	h.FinalLog(pc, pcLog)
	rep := check(t, h.Recorder, Options{})
	mustCatch(t, rep, LostAcknowledged, g, "expected id 101 at seq 1", `found id 101 (from u7 client_msg_no "m1")`)
}

func TestPullUpSyncAnsweredInDescendingOrderIsCaught(t *testing.T) {
	h := base()
	desc := pick(gLog, 3, 2, 1)
	h.sync("c9", SyncRequest{Channel: g, Start: 1, Mode: Up, Limit: 10}, 50, 51, desc)
	rep := check(t, h.finish().Recorder, Options{})
	mustCatch(t, rep, SyncOutOfOrder, g, "client c9", "seq 2 after seq 3", "[3 2 1]")
	if len(rep.Violations) != 1 {
		t.Fatalf("want only the order violation (the set is right):\n%s", rep)
	}
}

func TestMessageInAPostRestartLogButNotInTheFinalLogIsCaught(t *testing.T) {
	h := base() // c4's send of u4/m4 had an unknown outcome and was not stored
	h.Restarted(ms(45), "n1", ChannelLog{Channel: g, Messages: append(slices.Clone(gLog), msg(4, 104, "u4", "m4"))})
	rep := check(t, h.finish().Recorder, Options{})
	mustCatch(t, rep, NotStored, g, "the log read after node n1 restarted at 45ms", "id 104", "seq 4, which the final log lacks")
	if len(rep.Violations) != 1 {
		t.Fatalf("want only the lost message (m4 was sent):\n%s", rep)
	}
}

func TestMessageOnlyInAPostRestartLogIsCaught(t *testing.T) {
	h := base()
	h.Restarted(ms(45), "n1", ChannelLog{Channel: g, Messages: append(slices.Clone(gLog), msg(4, 444, "u9", "ghost"))})
	rep := check(t, h.finish().Recorder, Options{})
	mustCatch(t, rep, Phantom, g, "the log read after node n1 restarted at 45ms", "id 444", "no recorded send")
	mustCatch(t, rep, NotStored, g, "id 444")
}

// payloads is a clean history whose sends, RECVs, syncs and final log all
// carry payloads.
func payloads(recv, synced, stored string) hist {
	h := newHist()
	op := h.CallSend(ms(0), "c1", Send{Channel: g, FromUID: "u1", ClientMsgNo: "m1", Conn: "conn-c1", Payload: "hello 你好"})
	h.SendOK(op, ms(5), 101, 1)
	m := msg(1, 101, "u1", "m1")
	m.Payload = recv
	h.Received(ms(4), "k1", g, m)
	m.Payload = synced
	h.sync("c2", SyncRequest{Channel: g, Start: 1, Mode: Up}, 10, 11, []Message{m})
	m.Payload = stored
	h.FinalLog(g, []Message{m})
	return h
}

func TestPayloadsAreComparedEndToEnd(t *testing.T) {
	mustPass(t, check(t, payloads("hello 你好", "hello 你好", "hello 你好").Recorder, Options{}))
	// A payload not recorded is not compared.
	mustPass(t, check(t, payloads("", "", "").Recorder, Options{}))
	mustPass(t, check(t, payloads("hello 你好", "", "").Recorder, Options{}))

	rep := check(t, payloads("hello 你", "hello 你好", "hello 你好").Recorder, Options{})
	mustCatch(t, rep, WrongContent, g, "a RECV on connection k1", `payload "hello 你"`, `sent with "hello 你好"`)
	mustCatch(t, rep, WrongContent, g, "a RECV on connection k1", `the final log holds "hello 你好"`)

	rep = check(t, payloads("", "hello", "").Recorder, Options{})
	mustCatch(t, rep, WrongContent, g, "the answer to", `payload "hello"`, `sent with "hello 你好"`)

	rep = check(t, payloads("", "", "hullo").Recorder, Options{})
	mustCatch(t, rep, WrongContent, g, "the final log", `payload "hullo"`, `sent with "hello 你好"`)
}
