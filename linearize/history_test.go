package linearize

import (
	"strings"
	"testing"
)

func mustPanic(t *testing.T, want string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Fatalf("no panic, want one mentioning %q", want)
		}
		if !strings.Contains(r.(string), want) {
			t.Fatalf("panic %q, want one mentioning %q", r, want)
		}
	}()
	f()
}

func TestClientWithPendingOpCannotCallAgain(t *testing.T) {
	r := NewRecorder()
	r.CallSend(ms(1), "c1", Send{Channel: g, FromUID: "u1", ClientMsgNo: "m1"})
	mustPanic(t, "while op 0 is pending", func() { r.CallMaxSeq(ms(2), "c1", g) })
}

func TestOpCannotReturnTwice(t *testing.T) {
	r := NewRecorder()
	op := r.CallMaxSeq(ms(1), "c1", g)
	r.MaxSeqOK(op, ms(2), 0)
	mustPanic(t, "returned twice", func() { r.Unknown(op, ms(3)) })
}

func TestOpCannotReturnAsAnotherKind(t *testing.T) {
	r := NewRecorder()
	op := r.CallMaxSeq(ms(1), "c1", g)
	mustPanic(t, "is a max-seq, returned as a send", func() { r.SendOK(op, ms(2), 1, 1) })
}

func TestTimeCannotGoBackwardsForAClient(t *testing.T) {
	r := NewRecorder()
	op := r.CallMaxSeq(ms(5), "c1", g)
	mustPanic(t, "before its call", func() { r.MaxSeqOK(op, ms(4), 0) })
	r.MaxSeqOK(op, ms(6), 0)
	mustPanic(t, "before its previous return", func() { r.CallMaxSeq(ms(5), "c1", g) })
}

func TestUnknownOutcomeMovesTheClientToANewPorcupineClient(t *testing.T) {
	r := NewRecorder()
	a := r.CallMaxSeq(ms(1), "c1", g)
	r.MaxSeqOK(a, ms(2), 0)
	b := r.CallMaxSeq(ms(3), "c1", g)
	r.Unknown(b, ms(4))
	c := r.CallMaxSeq(ms(5), "c1", g)
	r.Failed(c, ms(6), "no")
	d := r.CallMaxSeq(ms(7), "c2", g)
	rows := []int{r.ops[a].row, r.ops[b].row, r.ops[c].row, r.ops[d].row}
	if rows[0] != rows[1] || rows[2] == rows[1] || rows[3] == rows[2] || rows[3] == rows[0] {
		t.Fatalf("porcupine client ids %v: want c1's first two ops on one, its third on a fresh one, c2 on another", rows)
	}
}

func TestPendingOpAtCheckCountsAsUnknown(t *testing.T) {
	h := newHist()
	h.CallSend(ms(1), "c1", Send{Channel: g, FromUID: "u1", ClientMsgNo: "m1"}) // never returns
	h.maxSeq("c2", g, 10, 11, 1)
	h.FinalLog(g, []Message{msg(1, 5, "u1", "m1")})
	rep := check(t, h.Recorder, Options{})
	mustPass(t, rep)
	if rep.Unknown != 1 || rep.UnknownPresent != 1 {
		t.Fatalf("the pending send was not resolved as an unknown one: %s", rep)
	}
}

func TestSyncWindowFollowsTheAPI(t *testing.T) {
	for _, c := range []struct {
		req         SyncRequest
		tail        uint64
		first, want uint64 // want = count
	}{
		{SyncRequest{Limit: 3}, 10, 8, 3},                               // start=end=0: the newest 3
		{SyncRequest{Limit: 3, Mode: Up}, 10, 8, 3},                     // in either mode
		{SyncRequest{Limit: 30}, 10, 1, 10},                             // fewer than the limit
		{SyncRequest{}, 0, 1, 0},                                        // empty log
		{SyncRequest{Start: 4, Mode: Up, Limit: 3}, 10, 4, 3},           // up from 4, inclusive
		{SyncRequest{Start: 4, End: 6, Mode: Up}, 10, 4, 2},             // end exclusive
		{SyncRequest{Start: 4, End: 60, Mode: Up}, 10, 4, 7},            // end past the tail
		{SyncRequest{Start: 11, Mode: Up}, 10, 11, 0},                   // past the tail
		{SyncRequest{Start: 0, End: 3, Mode: Up}, 10, 1, 2},             // start 0: from the first
		{SyncRequest{Start: 4, Mode: Down, Limit: 2}, 10, 3, 2},         // up to 4, newest 2
		{SyncRequest{Start: 4, Mode: Down}, 10, 1, 4},                   // up to 4, no limit
		{SyncRequest{Start: 40, Mode: Down, Limit: 2}, 10, 9, 2},        // below 40: up to the tail
		{SyncRequest{Start: 8, End: 5, Mode: Down}, 10, 6, 3},           // above end, exclusive
		{SyncRequest{Start: 0, End: 5, Mode: Down, Limit: 2}, 10, 9, 2}, // start 0: from the tail
		{SyncRequest{Start: 1, Mode: Down}, 10, 1, 1},                   // just 1
	} {
		first, count := SyncWindow(c.req, c.tail)
		if count != c.want || (count > 0 && first != c.first) {
			t.Errorf("SyncWindow(%s, tail %d) = %d from %d, want %d from %d", describeRequest(c.req), c.tail, count, first, c.want, c.first)
		}
	}
}

func TestSyncAfterAnAckTheLogContradictsIsNotLinearizable(t *testing.T) {
	// The final log holds id 9 at seq 1, but seq 1 was acked as id 5. A
	// sync of seq 2 alone sees nothing wrong in its own answer; the model
	// still refuses it, since the log it built (5, ...) hashes unlike the
	// stored one (9, ...).
	h := newHist()
	h.sendOK("c1", g, "u1", "m1", 0, 1, 5, 1)
	h.sendOK("c1", g, "u1", "m2", 2, 3, 6, 2)
	h.sync("c2", SyncRequest{Channel: g, Start: 2, Mode: Up}, 4, 5, []Message{msg(2, 6, "u1", "m2")})
	h.FinalLog(g, []Message{msg(1, 9, "u1", "m1"), msg(2, 6, "u1", "m2")})
	rep := check(t, h.Recorder, Options{})
	if rep.Linearizable != "Illegal" {
		t.Fatalf("porcupine said %s:\n%s", rep.Linearizable, rep)
	}
	mustCatch(t, rep, NotLinearizable, g, "up start 2 end 0 limit 0 → seq 2")
}

func TestResendAnsweredWithAnotherSeqIsCaught(t *testing.T) {
	// A resend must get the original seq and id back, not a new seq.
	h := newHist()
	h.sendOK("c1", g, "u1", "m1", 0, 1, 5, 1)
	h.sendOK("c1", g, "u1", "m1", 2, 3, 5, 2)
	h.FinalLog(g, []Message{msg(1, 5, "u1", "m1")})
	rep := check(t, h.Recorder, Options{})
	mustCatch(t, rep, LostAcknowledged, g, "expected id 5 at seq 2", `client_msg_no "m1" is stored at seq 1`)
	mustCatch(t, rep, MessageAtTwoSeqs, g, "id 5", "seq 1", "seq 2")
}
