package linearize

import (
	"strings"
	"testing"
	"time"
)

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// msg is a stored message: seq, id, sender and client_msg_no.
func msg(seq uint64, id int64, from, cmn string) Message {
	return Message{Seq: seq, MessageID: id, FromUID: from, ClientMsgNo: cmn}
}

// seqs returns the stored messages at the given seqs of log.
func pick(log []Message, seqs ...uint64) []Message {
	var out []Message
	for _, s := range seqs {
		for _, m := range log {
			if m.Seq == s {
				out = append(out, m)
			}
		}
	}
	return out
}

// hist builds histories tersely; times are in milliseconds.
type hist struct{ *Recorder }

func newHist() hist { return hist{NewRecorder()} }

func (h hist) sendOK(client, ch, from, cmn string, call, ret int, id int64, seq uint64) OpID {
	op := h.CallSend(ms(call), client, Send{Channel: ch, FromUID: from, ClientMsgNo: cmn, Conn: "conn-" + client})
	h.SendOK(op, ms(ret), id, seq)
	return op
}

func (h hist) sendUnknown(client, ch, from, cmn string, call, ret int) OpID {
	op := h.CallSend(ms(call), client, Send{Channel: ch, FromUID: from, ClientMsgNo: cmn, Conn: "conn-" + client})
	h.Unknown(op, ms(ret))
	return op
}

func (h hist) sendFailed(client, ch, from, cmn string, call, ret int) OpID {
	op := h.CallSend(ms(call), client, Send{Channel: ch, FromUID: from, ClientMsgNo: cmn, Conn: "conn-" + client})
	h.Failed(op, ms(ret), "reason 11 NotAllowSend")
	return op
}

func (h hist) sync(client string, req SyncRequest, call, ret int, got []Message) OpID {
	op := h.CallSync(ms(call), client, req)
	h.SyncOK(op, ms(ret), got)
	return op
}

func (h hist) maxSeq(client, ch string, call, ret int, tail uint64) OpID {
	op := h.CallMaxSeq(ms(call), client, ch)
	h.MaxSeqOK(op, ms(ret), tail)
	return op
}

// check runs Check with visualizations in the test's temporary directory.
func check(t *testing.T, r *Recorder, opts Options) Report {
	t.Helper()
	opts.VisualizeDir = t.TempDir()
	return r.Check(opts)
}

// mustPass fails the test unless rep is OK.
func mustPass(t *testing.T, rep Report) {
	t.Helper()
	if !rep.OK {
		t.Fatalf("clean history rejected:\n%s", rep)
	}
}

// mustCatch fails the test unless rep has a violation of kind on channel
// whose text contains every one of words; it returns that violation.
func mustCatch(t *testing.T, rep Report, kind Kind, channel string, words ...string) Violation {
	t.Helper()
	if rep.OK {
		t.Fatalf("violation %q not caught:\n%s", kind, rep)
	}
	for _, v := range rep.Violations {
		if v.Kind != kind || v.Channel != channel {
			continue
		}
		all := true
		for _, w := range words {
			all = all && strings.Contains(v.String(), w)
		}
		if all {
			t.Logf("caught: %s", v)
			return v
		}
	}
	t.Fatalf("no %q violation on %s mentioning %q:\n%s", kind, channel, words, rep)
	return Violation{}
}
