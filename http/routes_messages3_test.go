package http

import (
	"fmt"
	"slices"
	"testing"

	"github.com/jindou-im/jindou/node"
)

// syncOnce pulls uid's queued sync_once messages: their client_msg_nos.
func syncOnce(t *testing.T, s *Server, uid string, limit int) []string {
	t.Helper()
	r := post(t, s, "/message/sync", fmt.Sprintf(`{"uid":%q,"limit":%d}`, uid, limit))
	must200(t, r)
	var msgs []struct {
		ClientMsgNo string `json:"client_msg_no"`
		ChannelID   string `json:"channel_id"`
		Header      struct {
			SyncOnce int `json:"sync_once"`
		} `json:"header"`
	}
	r.json(t, &msgs)
	var out []string
	for _, m := range msgs {
		if m.Header.SyncOnce != 1 {
			t.Fatalf("a queued message without sync_once: %s", r.body)
		}
		out = append(out, m.ChannelID+"/"+m.ClientMsgNo)
	}
	return out
}

func TestSyncOnceMessagesAreSyncedUntilAcknowledged(t *testing.T) {
	s := newTestServer(t, Config{})
	group(t, s, "so-g", "so-a", "so-b")
	send := func(channel string, typ int, cmn string, syncOnce int) {
		sendMsg(t, s, fmt.Sprintf(`{"from_uid":"so-a","channel_id":%q,"channel_type":%d,"client_msg_no":%q,"header":{"sync_once":%d},"payload":%q}`,
			channel, typ, cmn, syncOnce, b64("cmd")))
	}
	send("so-g", 2, "c1", 1)
	send("so-g", 2, "plain", 0)
	send("so-b", 1, "c2", 1)
	send("so-g", 2, "c3", 1)
	if got := syncOnce(t, s, "so-a", 0); len(got) != 0 {
		t.Fatalf("the sender's own sync_once messages were queued for it: %v", got)
	}
	// Oldest first; a person message shows the peer as the channel.
	if got, want := syncOnce(t, s, "so-b", 2), []string{"so-g/c1", "so-a/c2"}; !slices.Equal(got, want) {
		t.Fatalf("sync with limit 2: %v, want %v", got, want)
	}
	mustOK(t, post(t, s, "/message/syncack", `{"uid":"so-b","last_message_seq":2}`))
	if got, want := syncOnce(t, s, "so-b", 0), []string{"so-g/c3"}; !slices.Equal(got, want) {
		t.Fatalf("after the ack: %v, want %v", got, want)
	}
	mustOK(t, post(t, s, "/message/syncack", `{"uid":"so-b","last_message_seq":4}`))
	if got := syncOnce(t, s, "so-b", 0); len(got) != 0 {
		t.Fatalf("after the second ack: %v", got)
	}
	// An ack with no sync before it acknowledges nothing, as in WuKongIM.
	mustOK(t, post(t, s, "/message/syncack", `{"uid":"so-b","last_message_seq":4}`))
	if r := post(t, s, "/message/sync", `{"uid":"nobody-so"}`); r.code != 200 || r.body != "[]\n" {
		t.Fatalf("an empty queue: %d %q, want []", r.code, r.body)
	}
}

func TestSyncOnceRoutesRefuseBadInputNamingTheField(t *testing.T) {
	s := newTestServer(t, Config{})
	for _, tc := range []struct{ path, body, field string }{
		{"/message/sync", `{"limit":1}`, "uid"},
		{"/message/sync", `{"uid":"a","limit":-1}`, "limit"},
		{"/message/sync", `{"uid":"a","limit":"x"}`, "limit"},
		{"/message/syncack", `{"last_message_seq":1}`, "uid"},
		{"/message/syncack", `{"uid":"a"}`, "last_message_seq"},
		{"/message/syncack", `{"uid":"a","last_message_seq":-1}`, "last_message_seq"},
	} {
		mustBad(t, post(t, s, tc.path, tc.body), tc.field)
	}
}

type eventReply struct {
	Status int                   `json:"status"`
	Data   node.EventAppendReply `json:"data"`
}

func appendEvent(t *testing.T, s *Server, body string) eventReply {
	t.Helper()
	r := post(t, s, "/message/event", body)
	must200(t, r)
	var out eventReply
	r.json(t, &out)
	return out
}

type eventSyncReply struct {
	Status int `json:"status"`
	Data   struct {
		ClientMsgNo     string `json:"client_msg_no"`
		FromMsgEventSeq uint64 `json:"from_msg_event_seq"`
		NextMsgEventSeq uint64 `json:"next_msg_event_seq"`
		More            int    `json:"more"`
		Events          []struct {
			MsgEventSeq uint64         `json:"msg_event_seq"`
			EventID     string         `json:"event_id"`
			EventKey    string         `json:"event_key"`
			EventType   string         `json:"event_type"`
			Visibility  string         `json:"visibility"`
			Payload     map[string]any `json:"payload"`
		} `json:"events"`
	} `json:"data"`
}

func TestStreamEventsAppendToAMessageAndSyncInSeqOrder(t *testing.T) {
	s := newTestServer(t, Config{})
	ev := func(id, typ, key, payload string) eventReply {
		return appendEvent(t, s, fmt.Sprintf(`{"channel_id":"ev-b","channel_type":1,"from_uid":"ev-bot","client_msg_no":"ev-m1","event_id":%q,"event_type":%q,"event_key":%q,"payload":%s}`,
			id, typ, key, payload))
	}
	first := ev("e1", "stream.delta", "", `{"kind":"text","delta":"Hel"}`)
	if d := first.Data; first.Status != 200 || d.MsgEventSeq != 1 || d.EventKey != "main" || d.StreamStatus != "open" ||
		d.ChannelID != "ev-b" || d.ChannelType != 1 || d.FromUID != "ev-bot" || d.ClientMsgNo != "ev-m1" || d.EventID != "e1" {
		t.Fatalf("first delta: %+v", first)
	}
	ev("t1", "stream.delta", "thinking", `{"kind":"text","delta":"hmm"}`)
	ev("e2", "stream.delta", "", `{"kind":"text","delta":"lo"}`)
	if again := ev("e2", "stream.delta", "", `{"kind":"text","delta":"lo"}`); again.Data.MsgEventSeq != 3 {
		t.Fatalf("a repeated event id: %+v, want its seq 3", again.Data)
	}
	closed := ev("e3", "stream.close", "", `{"end_reason":1}`)
	if closed.Data.MsgEventSeq != 4 || closed.Data.StreamStatus != "closed" {
		t.Fatalf("close: %+v", closed.Data)
	}
	if late := ev("e4", "stream.delta", "", `{"kind":"text","delta":"!"}`); late.Data.MsgEventSeq != 4 || late.Data.StreamStatus != "closed" {
		t.Fatalf("a delta after close: %+v, want the closed key's seq 4", late.Data)
	}
	// The recipient's view of the person channel names the bot.
	r := post(t, s, "/message/eventsync", `{"channel_id":"ev-bot","channel_type":1,"from_uid":"ev-b","client_msg_no":"ev-m1"}`)
	must200(t, r)
	var got eventSyncReply
	r.json(t, &got)
	evs := got.Data.Events
	if len(evs) != 2 || evs[0].EventKey != "thinking" || evs[1].EventKey != "main" || evs[1].MsgEventSeq != 4 ||
		evs[1].EventType != "stream.close" || evs[1].Payload["text"] != "Hello" || got.Data.NextMsgEventSeq != 4 || got.Data.More != 0 {
		t.Fatalf("event sync: %s", r.body)
	}
	r = post(t, s, "/message/eventsync", `{"channel_id":"ev-b","channel_type":1,"from_uid":"ev-bot","client_msg_no":"ev-m1","from_msg_event_seq":2,"limit":1}`)
	got = eventSyncReply{}
	r.json(t, &got)
	if len(got.Data.Events) != 1 || got.Data.Events[0].MsgEventSeq != 4 || got.Data.More != 0 || got.Data.FromMsgEventSeq != 2 {
		t.Fatalf("events past 2: %s", r.body)
	}
	r = post(t, s, "/message/eventsync", `{"channel_id":"ev-b","channel_type":1,"from_uid":"ev-bot","client_msg_no":"ev-m1","limit":1}`)
	got = eventSyncReply{}
	r.json(t, &got)
	if len(got.Data.Events) != 1 || got.Data.More != 1 || got.Data.NextMsgEventSeq != 2 {
		t.Fatalf("a page of one: %s", r.body)
	}
}

func TestPrivateEventsAreSyncedOnlyWhenAskedFor(t *testing.T) {
	s := newTestServer(t, Config{})
	group(t, s, "ev-g", "ev-u")
	appendEvent(t, s, `{"channel_id":"ev-g","channel_type":2,"client_msg_no":"m","event_id":"p","event_type":"stream.delta","event_key":"secret","visibility":"private","payload":{"kind":"text","delta":"x"}}`)
	appendEvent(t, s, `{"channel_id":"ev-g","channel_type":2,"client_msg_no":"m","event_id":"q","event_type":"stream.finish"}`)
	count := func(body string) int {
		var got eventSyncReply
		post(t, s, "/message/eventsync", body).json(t, &got)
		return len(got.Data.Events)
	}
	if n := count(`{"channel_id":"ev-g","channel_type":2,"client_msg_no":"m"}`); n != 1 {
		t.Fatalf("without include_private: %d events, want the finish only", n)
	}
	if n := count(`{"channel_id":"ev-g","channel_type":2,"client_msg_no":"m","include_private":1}`); n != 2 {
		t.Fatalf("with include_private: %d events, want 2", n)
	}
	if n := count(`{"channel_id":"ev-g","channel_type":2,"client_msg_no":"m","event_key":"__finish__"}`); n != 1 {
		t.Fatalf("filtered by the finish key: %d events", n)
	}
}

func TestEventRoutesRefuseBadInputNamingTheField(t *testing.T) {
	s := newTestServer(t, Config{})
	for _, tc := range []struct{ path, body, field string }{
		{"/message/event", `{"channel_type":2,"client_msg_no":"m","event_id":"e","event_type":"stream.delta"}`, "channel_id"},
		{"/message/event", `{"channel_id":"g","channel_type":10,"client_msg_no":"m","event_id":"e","event_type":"stream.delta"}`, "channel_type"},
		{"/message/event", `{"channel_id":"g","channel_type":2,"event_id":"e","event_type":"stream.delta"}`, "client_msg_no"},
		{"/message/event", `{"channel_id":"g","channel_type":2,"client_msg_no":"m","event_type":"stream.delta"}`, "event_id"},
		{"/message/event", `{"channel_id":"g","channel_type":2,"client_msg_no":"m","event_id":"e"}`, "event_type"},
		{"/message/event", `{"channel_id":"g","channel_type":2,"client_msg_no":"m","event_id":"e","event_type":"x","occurred_at":"now"}`, "occurred_at"},
		{"/message/event", `{"channel_id":"g","channel_type":2,"client_msg_no":"m","event_id":"e","event_type":"x","event_key":"a\u0000b"}`, "event_key"},
		{"/message/event", `{"channel_id":"u","channel_type":1,"client_msg_no":"m","event_id":"e","event_type":"x"}`, "from_uid"},
		{"/message/eventsync", `{"channel_type":2,"client_msg_no":"m"}`, "channel_id"},
		{"/message/eventsync", `{"channel_id":"g","channel_type":2}`, "client_msg_no"},
		{"/message/eventsync", `{"channel_id":"g","channel_type":2,"client_msg_no":"m","limit":-1}`, "limit"},
		{"/message/eventsync", `{"channel_id":"g","channel_type":2,"client_msg_no":"m","include_private":2}`, "include_private"},
	} {
		mustBad(t, post(t, s, tc.path, tc.body), tc.field)
	}
}
