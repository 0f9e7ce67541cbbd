package linearize

import (
	"strings"
	"testing"
)

// onlyKind fails unless vs holds exactly one violation, of kind k, whose
// text says each of want.
func onlyKind(t *testing.T, vs []Violation, k Kind, want ...string) {
	t.Helper()
	if len(vs) != 1 || vs[0].Kind != k {
		t.Fatalf("want one %q violation, got %v", k, vs)
	}
	for _, w := range want {
		if !strings.Contains(vs[0].String(), w) {
			t.Errorf("the report %q lacks %q", vs[0], w)
		}
	}
}

func rulesHist() hist {
	h := newHist()
	h.Modelled("2:g", ChannelRules{Exists: true, Subscribers: []string{"a", "b"}})
	h.RuleChanged(ms(1000), ms(1010), RuleChange{Channel: "2:g", What: "info", Ban: true})
	h.RuleChanged(ms(2000), ms(2010), RuleChange{Channel: "2:g", What: "info"})
	h.RuleChanged(ms(3000), ms(3010), RuleChange{Channel: "2:g", What: "sub-remove", UIDs: []string{"b"}})
	return h
}

func (h hist) sendRefused(client, ch, from, cmn string, call, ret int, reason string) {
	op := h.CallSend(ms(call), client, Send{Channel: ch, FromUID: from, ClientMsgNo: cmn})
	h.Failed(op, ms(ret), reason)
}

func TestSendsAreAnsweredAsTheRulesAtTheTimeAllow(t *testing.T) {
	h := rulesHist()
	h.sendOK("a1", "2:g", "a", "a-1", 500, 510, 1, 1)              // before the ban
	h.sendRefused("a2", "2:g", "a", "a-2", 1005, 1020, RefusedBan) // racing it: either
	h.sendRefused("b1", "2:g", "b", "b-1", 3500, 3510, RefusedNotSubscriber)
	h.FinalLog("2:g", []Message{msg(1, 1, "a", "a-1")})
	if vs := h.CheckRules(); len(vs) != 0 {
		t.Fatalf("a history the rules allow: %v", vs)
	}
	// Planted: accepted while banned.
	h.sendOK("a3", "2:g", "a", "a-3", 1500, 1510, 2, 2)
	h.FinalLog("2:g", []Message{msg(1, 1, "a", "a-1"), msg(2, 2, "a", "a-3")})
	onlyKind(t, h.CheckRules(), WrongRefusal, `answered "ok"`, "allowed only ban", "2:g info ban=true")
}

// A retry long after the first attempt, whose answer was lost, is answered
// from the dedupe window although the sender lost the right to send
// meanwhile: the first attempt was the one the rules let through.
func TestARetryOfASendStoredBeforeARuleChangeIsAnsweredFromTheWindow(t *testing.T) {
	h := rulesHist()
	first := h.CallSend(ms(2500), "b1", Send{Channel: "2:g", FromUID: "b", ClientMsgNo: "b-1"})
	h.Unknown(first, ms(2600))
	h.sendOK("b2", "2:g", "b", "b-1", 3500, 3510, 1, 1) // after b's removal
	retry := h.CallSend(ms(3600), "b3", Send{Channel: "2:g", FromUID: "b", ClientMsgNo: "b-1"})
	h.Unknown(retry, ms(3700))
	h.FinalLog("2:g", []Message{msg(1, 1, "b", "b-1")})
	if vs := h.CheckRules(); len(vs) != 0 {
		t.Fatalf("retries of a send stored while allowed: %v", vs)
	}
	// Planted: first sent after the removal, stored all the same.
	h.sendOK("b4", "2:g", "b", "b-2", 3500, 3510, 2, 2)
	h.FinalLog("2:g", []Message{msg(1, 1, "b", "b-1"), msg(2, 2, "b", "b-2")})
	onlyKind(t, h.CheckRules(), WrongRefusal, `client_msg_no "b-2"`, "allowed only not-subscriber")
}

func TestARefusalForTheWrongReasonIsCaught(t *testing.T) {
	h := rulesHist()
	h.sendRefused("a1", "2:g", "a", "a-1", 1500, 1510, RefusedSendBan) // banned, not send-banned
	h.FinalLog("2:g", nil)
	onlyKind(t, h.CheckRules(), WrongRefusal, `answered "send-ban"`, "allowed only ban")
}

func TestASystemUIDBypassesTheRulesOnlyWhileItIsOne(t *testing.T) {
	h := rulesHist()
	h.RuleChanged(ms(4000), ms(4010), RuleChange{What: "system-add", UIDs: []string{"c"}})
	h.sendRefused("c1", "2:g", "c", "c-1", 3500, 3510, RefusedNotSubscriber)
	h.sendOK("c2", "2:g", "c", "c-2", 6000, 6010, 1, 1)
	h.FinalLog("2:g", []Message{msg(1, 1, "c", "c-2")})
	if vs := h.CheckRules(); len(vs) != 0 {
		t.Fatalf("%v", vs)
	}
	h.sendOK("c3", "2:g", "c", "c-3", 3600, 3610, 2, 2)
	h.FinalLog("2:g", []Message{msg(1, 1, "c", "c-2"), msg(2, 2, "c", "c-3")})
	onlyKind(t, h.CheckRules(), WrongRefusal, "c-3", "allowed only not-subscriber")
}

func TestARemovedSubscriberGetsNothingSentAfterItsRemoval(t *testing.T) {
	h := rulesHist()
	h.ConnUser("b#1", "b")
	h.sendOK("a1", "2:g", "a", "a-1", 2900, 2990, 1, 1)
	h.Received(ms(3500), "b#1", "2:g", msg(1, 1, "a", "a-1")) // sent while b subscribed
	h.FinalLog("2:g", []Message{msg(1, 1, "a", "a-1")})
	if vs := h.CheckRules(); len(vs) != 0 {
		t.Fatalf("%v", vs)
	}
	h.sendOK("a2", "2:g", "a", "a-2", 3100, 3110, 2, 2)
	h.Received(ms(3120), "b#1", "2:g", msg(2, 2, "a", "a-2"))
	h.FinalLog("2:g", []Message{msg(1, 1, "a", "a-1"), msg(2, 2, "a", "a-2")})
	onlyKind(t, h.CheckRules(), NotASubscriber, "connection b#1 of b got id 2", "sub-remove b")
}

func TestAKickedConnectionGetsNothingAfterItsDisconnect(t *testing.T) {
	h := newHist()
	h.Received(ms(10), "a#1", "2:g", msg(1, 1, "b", "b-1"))
	h.Disconnected(ms(20), "a#1", "token changed")
	h.Received(ms(30), "a#2", "2:g", msg(2, 2, "b", "b-2"))
	if vs := h.CheckRules(); len(vs) != 0 {
		t.Fatalf("%v", vs)
	}
	h.Received(ms(30), "a#1", "2:g", msg(2, 2, "b", "b-2"))
	onlyKind(t, h.CheckRules(), AfterKick, "a#1 got DISCONNECT (token changed)")
}

func syncWithMore(h hist, client string, req SyncRequest, call, ret int, msgs []Message, more bool) {
	op := h.CallSync(ms(call), client, req)
	h.SyncOK(op, ms(ret), msgs)
	h.SyncMore(op, more)
}

func TestTheMoreFlagSaysWhetherTheLimitCutTheRange(t *testing.T) {
	log := []Message{msg(1, 1, "a", "a-1"), msg(2, 2, "a", "a-2"), msg(3, 3, "a", "a-3")}
	h := newHist()
	for i, m := range log {
		h.sendOK("a", "2:g", "a", m.ClientMsgNo, 10*i, 10*i+5, m.MessageID, m.Seq)
	}
	h.FinalLog("2:g", log)
	syncWithMore(h, "r1", SyncRequest{Channel: "2:g", Start: 1, Limit: 2, Mode: Up}, 100, 110, log[:2], true)
	syncWithMore(h, "r2", SyncRequest{Channel: "2:g", Start: 3, Limit: 2, Mode: Down}, 100, 110, log[1:3], true)
	syncWithMore(h, "r3", SyncRequest{Channel: "2:g", Start: 1, End: 3, Limit: 2, Mode: Up}, 100, 110, log[:2], false)
	if vs := h.CheckViews(); len(vs) != 0 {
		t.Fatalf("%v", vs)
	}
	syncWithMore(h, "r4", SyncRequest{Channel: "2:g", Start: 2, Limit: 2, Mode: Up}, 100, 110, log[1:3], true)
	onlyKind(t, h.CheckViews(), WrongMore, "more=true; want more=false")
}

func TestAConversationShowsTheTailAndTheReadCursorOfItsTime(t *testing.T) {
	log := []Message{msg(1, 1, "a", "a-1"), msg(2, 2, "b", "b-1"), msg(3, 3, "b", "b-2")}
	h := newHist()
	h.sendOK("a", "2:g", "a", "a-1", 0, 5, 1, 1)
	h.sendOK("b", "2:g", "b", "b-1", 10, 15, 2, 2)
	h.sendOK("b", "2:g", "b", "b-2", 200, 205, 3, 3)
	h.FinalLog("2:g", log)
	h.Conversations(ms(100), ms(110), "a", []ConvView{{Channel: "2:g", LastMsgSeq: 2, Unread: 1, ReadToSeq: 1}})
	h.UnreadCleared(ms(300), ms(310), "a", "2:g")
	h.Conversations(ms(400), ms(410), "a", []ConvView{{Channel: "2:g", LastMsgSeq: 3, Unread: 0, ReadToSeq: 3}})
	if vs := h.CheckViews(); len(vs) != 0 {
		t.Fatalf("%v", vs)
	}
	h.Conversations(ms(500), ms(510), "a", []ConvView{{Channel: "2:g", LastMsgSeq: 3, Unread: 2, ReadToSeq: 1}})
	onlyKind(t, h.CheckViews(), WrongConversation, "read cursor 1, below 3")
	h2 := newHist()
	h2.sendOK("b", "2:g", "b", "b-1", 10, 15, 2, 1)
	h2.FinalLog("2:g", log[1:2])
	h2.Conversations(ms(100), ms(110), "a", []ConvView{{Channel: "2:g", LastMsgSeq: 1, Unread: 0, ReadToSeq: 0}})
	onlyKind(t, h2.CheckViews(), WrongConversation, "unread 0 with last_msg_seq 1")
}
