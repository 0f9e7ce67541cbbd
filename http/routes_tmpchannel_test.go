package http

import (
	"strings"
	"testing"
)

func TestTemporaryChannelsTakeTheSubscribersSetLast(t *testing.T) {
	s := newTestServer(t, Config{})
	mustOK(t, post(t, s, "/tmpchannel/subscriber_set", `{"channel_id":"tc-1","uids":["tc-a","tc-b"]}`))
	sendMsg(t, s, `{"from_uid":"tc-a","channel_id":"tc-1","channel_type":8,"payload":"`+b64("one")+`"}`)
	r := post(t, s, "/channel/messagesync", `{"login_uid":"tc-b","channel_id":"tc-1","channel_type":8,"limit":10}`)
	must200(t, r)
	if !strings.Contains(r.body, `"message_seq":1`) || !strings.Contains(r.body, `"channel_type":8`) {
		t.Fatalf("the temporary channel's log: %s", r.body)
	}
	// No conversations for temporary channels, as in WuKongIM.
	if r := post(t, s, "/conversation/sync", `{"uid":"tc-b"}`); strings.Contains(r.body, "tc-1") {
		t.Fatalf("a conversation of a temporary channel: %s", r.body)
	}
	// A second set replaces the subscribers: tc-a may no longer send.
	mustOK(t, post(t, s, "/tmpchannel/subscriber_set", `{"channel_id":"tc-1","uids":["tc-b"]}`))
	if r := post(t, s, "/message/send", `{"from_uid":"tc-a","channel_id":"tc-1","channel_type":8,"payload":"`+b64("two")+`"}`); r.code == 200 {
		t.Fatalf("a former subscriber's send: %d %s", r.code, r.body)
	}
	sendMsg(t, s, `{"from_uid":"tc-b","channel_id":"tc-1","channel_type":8,"payload":"`+b64("three")+`"}`)
}

func TestTmpChannelSubscriberSetRefusesBadInputNamingTheField(t *testing.T) {
	s := newTestServer(t, Config{})
	for _, tc := range []struct{ body, field string }{
		{`{"uids":["a"]}`, "channel_id"},
		{`{"channel_id":"t"}`, "uids"},
		{`{"channel_id":"t","uids":[" "]}`, "uids"},
		{`{"channel_id":"t","uids":"a"}`, "uids"},
		{`{"channel_id":"t","uids":["a\u0000b"]}`, "uids"},
	} {
		mustBad(t, post(t, s, "/tmpchannel/subscriber_set", tc.body), tc.field)
	}
}
