package http

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestUserRoutesAnswerWuKongIMEnvelopes(t *testing.T) {
	s := newTestServer(t, Config{})
	mustOK(t, post(t, s, "/user/token", `{"uid":"ur1","token":"t1","device_flag":1,"device_level":1}`))
	mustOK(t, post(t, s, "/user/device_quit", `{"uid":"ur1","device_flag":-1}`))

	r := post(t, s, "/user/onlinestatus", `["ur1","ur2"]`)
	must200(t, r)
	if strings.TrimSpace(r.body) != `[]` {
		t.Fatalf("offline users: want [], got %s", r.body)
	}

	mustOK(t, post(t, s, "/user/systemuids_add", `{"uids":["ursys1","ursys2"]}`))
	var uids []string
	get(t, s, "/user/systemuids").json(t, &uids)
	if !slices.Contains(uids, "ursys1") || !slices.Contains(uids, "ursys2") {
		t.Fatalf("system uids after add: %v", uids)
	}
	mustOK(t, post(t, s, "/user/systemuids_remove", `{"uids":["ursys1"]}`))
	get(t, s, "/user/systemuids").json(t, &uids)
	if slices.Contains(uids, "ursys1") || !slices.Contains(uids, "ursys2") {
		t.Fatalf("system uids after remove: %v", uids)
	}
}

func TestBadInputIsA400NamingTheField(t *testing.T) {
	s := newTestServer(t, Config{})
	cases := []struct {
		name, method, path, body, field string
	}{
		{"malformed JSON", "POST", "/user/token", `{"uid":`, "body"},
		{"not JSON", "POST", "/channel", `hello`, "body"},
		{"empty body", "POST", "/channel", ``, "body"},
		{"trailing data", "POST", "/channel/delete", `{"channel_id":"g","channel_type":2} {}`, "body"},
		{"missing uid", "POST", "/user/token", `{"token":"t"}`, "uid"},
		{"missing token", "POST", "/user/token", `{"uid":"u"}`, "token"},
		{"device_flag out of range", "POST", "/user/token", `{"uid":"u","token":"t","device_flag":300}`, "device_flag"},
		{"device_level", "POST", "/user/token", `{"uid":"u","token":"t","device_level":2}`, "device_level"},
		{"uid with @", "POST", "/user/token", `{"uid":"a@b","token":"t"}`, "uid"},
		{"onlinestatus not an array", "POST", "/user/onlinestatus", `{"uids":["a"]}`, "body"},
		{"uids wrong type", "POST", "/user/systemuids_add", `{"uids":"a"}`, "uids"},
		{"channel_type a string", "POST", "/channel", `{"channel_id":"g","channel_type":"2"}`, "channel_type"},
		{"missing channel_id", "POST", "/channel", `{"channel_type":2}`, "channel_id"},
		{"missing channel_type", "POST", "/channel/info", `{"channel_id":"g"}`, "channel_type"},
		{"unknown channel type", "POST", "/channel", `{"channel_id":"g","channel_type":10}`, "channel_type"},
		{"flag not 0/1", "POST", "/channel/info", `{"channel_id":"g","channel_type":2,"ban":7}`, "ban"},
		{"person channel with subscribers", "POST", "/channel", `{"channel_id":"u1","channel_type":1,"subscribers":["u2"]}`, "subscribers"},
		{"subscriber_add to a person channel", "POST", "/channel/subscriber_add", `{"channel_id":"u1","channel_type":1,"subscribers":["u2"]}`, "subscribers"},
		{"subscriber_add without subscribers", "POST", "/channel/subscriber_add", `{"channel_id":"g","channel_type":2}`, "subscribers"},
		{"blacklist_add without uids", "POST", "/channel/blacklist_add", `{"channel_id":"g","channel_type":2}`, "uids"},
		{"whitelist get channel_type", "GET", "/channel/whitelist?channel_id=g&channel_type=x", ``, "channel_type"},
		{"send bad base64", "POST", "/message/send", `{"channel_id":"g","channel_type":2,"payload":"@@@"}`, "payload"},
		{"send missing payload", "POST", "/message/send", `{"channel_id":"g","channel_type":2}`, "payload"},
		{"send payload wrong type", "POST", "/message/send", `{"channel_id":"g","channel_type":2,"payload":5}`, "payload"},
		{"send header type", "POST", "/message/send", `{"header":{"red_dot":"yes"},"channel_id":"g","channel_type":2,"payload":"aGk="}`, "header.red_dot"},
		{"send nowhere", "POST", "/message/send", `{"payload":"aGk="}`, "channel_id"},
		{"send both channel and subscribers", "POST", "/message/send", `{"channel_id":"g","channel_type":2,"subscribers":["a"],"payload":"aGk="}`, "subscribers"},
		{"send unknown channel type", "POST", "/message/send", `{"channel_id":"g","channel_type":10,"payload":"aGk="}`, "channel_type"},
		{"send bad from_uid", "POST", "/message/send", `{"from_uid":"a#b","channel_id":"g","channel_type":2,"payload":"aGk="}`, "from_uid"},
		{"sendbatch missing from_uid", "POST", "/message/sendbatch", `{"subscribers":["a"],"payload":"aGk="}`, "from_uid"},
		{"messagesync missing login_uid", "POST", "/channel/messagesync", `{"channel_id":"g","channel_type":2}`, "login_uid"},
		{"messagesync pull_mode", "POST", "/channel/messagesync", `{"login_uid":"u","channel_id":"g","channel_type":2,"pull_mode":5}`, "pull_mode"},
		{"messagesync seq negative", "POST", "/channel/messagesync", `{"login_uid":"u","channel_id":"g","channel_type":2,"start_message_seq":-1}`, "start_message_seq"},
		{"max seq channel_type", "GET", "/channel/max_message_seq?channel_id=g&channel_type=abc", ``, "channel_type"},
		{"max seq channel_id", "GET", "/channel/max_message_seq?channel_type=2", ``, "channel_id"},
		{"messages seqs type", "POST", "/messages", `{"login_uid":"u","channel_id":"g","channel_type":2,"message_seqs":["1"]}`, "message_seqs"},
		{"conversation sync uid", "POST", "/conversation/sync", `{"msg_count":1}`, "uid"},
		{"conversation sync last_msg_seqs", "POST", "/conversation/sync", `{"uid":"u","last_msg_seqs":"g:2"}`, "last_msg_seqs"},
		{"clearUnread channel", "POST", "/conversations/clearUnread", `{"uid":"u","channel_type":2}`, "channel_id"},
		{"setUnread type", "POST", "/conversations/setUnread", `{"uid":"u","channel_id":"g","channel_type":2,"unread":"3"}`, "unread"},
		{"setUnread negative", "POST", "/conversations/setUnread", `{"uid":"u","channel_id":"g","channel_type":2,"unread":-1}`, "unread"},
		{"send channel_id not UTF-8", "POST", "/message/send", "{\"channel_id\":\"g\xff\",\"channel_type\":2,\"payload\":\"aGk=\"}", "channel_id"},
		{"send from_uid not UTF-8", "POST", "/message/send", "{\"from_uid\":\"a\xc3\",\"channel_id\":\"g\",\"channel_type\":2,\"payload\":\"aGk=\"}", "from_uid"},
		{"subscriber not UTF-8", "POST", "/channel/subscriber_add", "{\"channel_id\":\"g\",\"channel_type\":2,\"subscribers\":[\"a\",\"b\xfe\"]}", "subscribers"},
		{"max seq channel_id not UTF-8", "GET", "/channel/max_message_seq?channel_id=g%FF&channel_type=2", ``, "channel_id"},
		{"connz offset", "GET", "/connz?offset=-1", ``, "offset"},
		{"connz limit", "GET", "/connz?limit=x", ``, "limit"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mustBad(t, do(t, s, tc.method, tc.path, tc.body), tc.field)
		})
	}
}

func TestUnknownRouteAnswersInTheEnvelope(t *testing.T) {
	s := newTestServer(t, Config{})
	r := get(t, s, "/nope")
	if r.code != 404 || r.object(t)["status"] != float64(404) {
		t.Fatalf("got %d %s", r.code, r.body)
	}
}

func TestManagerTokenIsRequiredWhenConfigured(t *testing.T) {
	s := newTestServer(t, Config{ManagerToken: "secret"})
	for _, hdr := range [][]string{nil, {"token", "wrong"}} {
		r := do(t, s, "GET", "/route", "", hdr...)
		if r.code != 401 {
			t.Fatalf("token %v: want 401, got %d %s", hdr, r.code, r.body)
		}
		var body struct {
			Status int    `json:"status"`
			Msg    string `json:"msg"`
		}
		r.json(t, &body)
		if body.Status != 401 || !strings.HasPrefix(body.Msg, "token:") {
			t.Fatalf("401 body: %s", r.body)
		}
	}
	must200(t, do(t, s, "GET", "/route", "", "token", "secret"))
	mustOK(t, do(t, s, "POST", "/user/token", `{"uid":"mt1","token":"x"}`, "token", "secret"))
	must200(t, get(t, s, "/healthz")) // probes need no token
}

func TestSendAnswersWithItsSeqAndARepeatedClientMsgNoReturnsTheOriginal(t *testing.T) {
	s := newTestServer(t, Config{})
	group(t, s, "sg1", "sa", "sb")
	first := sendMsg(t, s, `{"from_uid":"sa","channel_id":"sg1","channel_type":2,"client_msg_no":"c1","payload":"`+b64("one")+`"}`)
	if first.Data.MessageSeq != 1 || first.Data.ClientMsgNo != "c1" {
		t.Fatalf("first send: %+v", first)
	}
	again := sendMsg(t, s, `{"from_uid":"sa","channel_id":"sg1","channel_type":2,"client_msg_no":"c1","payload":"`+b64("one")+`"}`)
	if again.Data != first.Data {
		t.Fatalf("repeat: want the original %+v, got %+v", first.Data, again.Data)
	}
	second := sendMsg(t, s, `{"from_uid":"sa","channel_id":"sg1","channel_type":2,"payload":"`+b64("two")+`"}`)
	if second.Data.MessageSeq != 2 || len(second.Data.ClientMsgNo) != 33 {
		t.Fatalf("second send (client_msg_no generated): %+v", second.Data)
	}
	var max struct {
		MessageSeq uint64 `json:"message_seq"`
	}
	get(t, s, "/channel/max_message_seq?channel_id=sg1&channel_type=2").json(t, &max)
	if max.MessageSeq != 2 {
		t.Fatalf("max_message_seq: %d", max.MessageSeq)
	}
}

func TestARefusedSendIsA400CarryingTheReasonCode(t *testing.T) {
	s := newTestServer(t, Config{})
	group(t, s, "rg1", "ra")
	r := post(t, s, "/message/send", `{"from_uid":"rstranger","channel_id":"rg1","channel_type":2,"payload":"aGk="}`)
	var body struct {
		Status     int    `json:"status"`
		Msg        string `json:"msg"`
		ReasonCode *int   `json:"reason_code"`
	}
	r.json(t, &body)
	if r.code != 400 || body.Status != 400 || body.ReasonCode == nil || *body.ReasonCode != 3 || !strings.Contains(body.Msg, "3") {
		t.Fatalf("non-subscriber send: %d %s", r.code, r.body)
	}
	mustOK(t, post(t, s, "/channel/info", `{"channel_id":"rg1","channel_type":2,"ban":1}`))
	r = post(t, s, "/message/send", `{"from_uid":"ra","channel_id":"rg1","channel_type":2,"payload":"aGk="}`)
	r.json(t, &body)
	if r.code != 400 || body.ReasonCode == nil || *body.ReasonCode != 19 {
		t.Fatalf("banned channel send: %d %s", r.code, r.body)
	}
	// A system send (no from_uid) bypasses the ban.
	sendMsg(t, s, `{"channel_id":"rg1","channel_type":2,"payload":"aGk="}`)
}

// syncResp is /channel/messagesync's answer.
type syncResp struct {
	Start    uint64                   `json:"start_message_seq"`
	End      uint64                   `json:"end_message_seq"`
	More     int                      `json:"more"`
	Messages []map[string]interface{} `json:"messages"`
}

func (r syncResp) seqs() []int {
	var out []int
	for _, m := range r.Messages {
		out = append(out, int(m["message_seq"].(float64)))
	}
	return out
}

func TestMessageSyncPullsUpAndDownWithLimitAndMore(t *testing.T) {
	s := newTestServer(t, Config{})
	group(t, s, "mg1", "ma", "mb")
	for i := 1; i <= 5; i++ {
		sendMsg(t, s, fmt.Sprintf(`{"from_uid":"ma","channel_id":"mg1","channel_type":2,"payload":%q}`, b64(fmt.Sprint("m", i))))
	}
	sync := func(start, end uint64, limit, mode int) syncResp {
		t.Helper()
		r := post(t, s, "/channel/messagesync", fmt.Sprintf(
			`{"login_uid":"mb","channel_id":"mg1","channel_type":2,"start_message_seq":%d,"end_message_seq":%d,"limit":%d,"pull_mode":%d}`,
			start, end, limit, mode))
		must200(t, r)
		var out syncResp
		r.json(t, &out)
		return out
	}
	cases := []struct {
		name             string
		start, end       uint64
		limit, mode      int
		want             []int
		more             int
		echoStart, echoE uint64
	}{
		{"newest two", 0, 0, 2, 0, []int{4, 5}, 1, 0, 0},
		{"newest all", 0, 0, 10, 0, []int{1, 2, 3, 4, 5}, 0, 0, 0},
		{"up from 1, limit 2", 1, 0, 2, 1, []int{1, 2}, 1, 1, 0},
		{"up from 4", 4, 0, 10, 1, []int{4, 5}, 0, 4, 0},
		{"up from 2 to 4 exclusive", 2, 4, 10, 1, []int{2, 3}, 0, 2, 4},
		{"down from 3", 3, 0, 10, 0, []int{1, 2, 3}, 0, 3, 0},
		{"down from 5, limit 2", 5, 0, 2, 0, []int{4, 5}, 1, 5, 0},
	}
	for _, tc := range cases {
		got := sync(tc.start, tc.end, tc.limit, tc.mode)
		if !slices.Equal(got.seqs(), tc.want) || got.More != tc.more || got.Start != tc.echoStart || got.End != tc.echoE {
			t.Errorf("%s: want seqs %v more %d, got %v more %d (start %d end %d)", tc.name, tc.want, tc.more, got.seqs(), got.More, got.Start, got.End)
		}
	}

	// The Message JSON, field by field.
	m := sync(1, 2, 1, 1).Messages[0]
	keys := []string{"header", "setting", "message_id", "message_idstr", "client_msg_no", "message_seq", "from_uid",
		"channel_id", "channel_type", "expire", "timestamp", "payload"}
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Errorf("message lacks %q: %v", k, m)
		}
	}
	if h := m["header"].(map[string]any); h["no_persist"] != float64(0) || h["red_dot"] != float64(0) || h["sync_once"] != float64(0) {
		t.Errorf("header as 0/1 ints: %v", h)
	}
	if m["message_idstr"] != fmt.Sprintf("%.0f", m["message_id"].(float64)) && len(m["message_idstr"].(string)) < 10 {
		t.Errorf("message_idstr %v vs message_id %v", m["message_idstr"], m["message_id"])
	}
	if m["payload"] != b64("m1") || m["from_uid"] != "ma" || m["channel_id"] != "mg1" || m["channel_type"] != float64(2) {
		t.Errorf("message fields: %v", m)
	}

	// /messages: by seq, in the order asked, missing ones left out.
	var msgs []map[string]any
	post(t, s, "/messages", `{"login_uid":"mb","channel_id":"mg1","channel_type":2,"message_seqs":[3,1,99]}`).json(t, &msgs)
	if len(msgs) != 2 || msgs[0]["message_seq"] != float64(3) || msgs[1]["message_seq"] != float64(1) {
		t.Fatalf("/messages: %v", msgs)
	}
}

func TestMessageIDStrIsTheExactID(t *testing.T) {
	s := newTestServer(t, Config{})
	group(t, s, "ig1", "ia")
	sent := sendMsg(t, s, `{"from_uid":"ia","channel_id":"ig1","channel_type":2,"payload":"aGk="}`)
	r := post(t, s, "/channel/messagesync", `{"login_uid":"ia","channel_id":"ig1","channel_type":2}`)
	var out struct {
		Messages []struct {
			MessageID    int64  `json:"message_id"`
			MessageIDStr string `json:"message_idstr"`
		} `json:"messages"`
	}
	r.json(t, &out)
	if len(out.Messages) != 1 || out.Messages[0].MessageID != sent.Data.MessageID ||
		out.Messages[0].MessageIDStr != fmt.Sprint(sent.Data.MessageID) {
		t.Fatalf("sent %d, synced %+v", sent.Data.MessageID, out.Messages)
	}
}

func TestAPersonChannelIsShownAsTheOtherParty(t *testing.T) {
	s := newTestServer(t, Config{})
	sendMsg(t, s, `{"from_uid":"pa","channel_id":"pb","channel_type":1,"header":{"red_dot":1},"payload":"aGk="}`)
	for _, view := range []struct{ login, peer string }{{"pb", "pa"}, {"pa", "pb"}} {
		var out syncResp
		post(t, s, "/channel/messagesync", fmt.Sprintf(`{"login_uid":%q,"channel_id":%q,"channel_type":1}`, view.login, view.peer)).json(t, &out)
		if len(out.Messages) != 1 || out.Messages[0]["channel_id"] != view.peer || out.Messages[0]["from_uid"] != "pa" {
			t.Fatalf("%s's view: %+v", view.login, out.Messages)
		}
		if out.Messages[0]["header"].(map[string]any)["red_dot"] != float64(1) {
			t.Fatalf("red_dot: %v", out.Messages[0]["header"])
		}
		var max map[string]uint64
		get(t, s, "/channel/max_message_seq?channel_id="+view.peer+"&channel_type=1&login_uid="+view.login).json(t, &max)
		if max["message_seq"] != 1 {
			t.Fatalf("%s's max seq: %v", view.login, max)
		}
	}
	var convs []conversationJSON
	post(t, s, "/conversation/sync", `{"uid":"pb","msg_count":1}`).json(t, &convs)
	if len(convs) != 1 || convs[0].ChannelID != "pa" || convs[0].ChannelType != 1 || convs[0].Unread != 1 ||
		convs[0].Recents[0].ChannelID != "pa" {
		t.Fatalf("pb's conversations: %+v", convs)
	}
}

func TestConversationSyncCountsUnreadAndTheUpdatesMoveTheCursor(t *testing.T) {
	s := newTestServer(t, Config{})
	group(t, s, "cg1", "ca", "cb")
	var last sendReply
	for i := 1; i <= 3; i++ {
		last = sendMsg(t, s, fmt.Sprintf(`{"from_uid":"ca","channel_id":"cg1","channel_type":2,"client_msg_no":"cm%d","payload":"aGk="}`, i))
	}
	syncOf := func(body string) []conversationJSON {
		t.Helper()
		r := post(t, s, "/conversation/sync", body)
		must200(t, r)
		var out []conversationJSON
		r.json(t, &out)
		return out
	}
	convs := syncOf(`{"uid":"cb","msg_count":2}`)
	if len(convs) != 1 {
		t.Fatalf("cb's conversations: %+v", convs)
	}
	c := convs[0]
	if c.ChannelID != "cg1" || c.ChannelType != 2 || c.Unread != 3 || c.LastMsgSeq != 3 || c.LastClientMsgNo != "cm3" ||
		c.ReadedToMsgSeq != 0 || c.OffsetMsgSeq != 0 || c.Version != c.Timestamp*1e9 || c.Timestamp == 0 {
		t.Fatalf("cb's conversation: %+v", c)
	}
	if len(c.Recents) != 2 || c.Recents[0].MessageSeq != 3 || c.Recents[1].MessageSeq != 2 || c.Recents[0].MessageID != last.Data.MessageID {
		t.Fatalf("recents, newest first: %+v", c.Recents)
	}
	// The sender has read their own messages.
	if convs := syncOf(`{"uid":"ca","msg_count":1}`); len(convs) != 1 || convs[0].Unread != 0 || convs[0].ReadedToMsgSeq != 3 {
		t.Fatalf("ca's conversations: %+v", convs)
	}
	// The client already holds seq 3: nothing new. Holding seq 2: one recent.
	if convs := syncOf(`{"uid":"cb","msg_count":5,"last_msg_seqs":"cg1:2:3"}`); len(convs) != 0 {
		t.Fatalf("up-to-date client: %+v", convs)
	}
	if convs := syncOf(`{"uid":"cb","msg_count":5,"last_msg_seqs":"cg1:2:2"}`); len(convs) != 1 || len(convs[0].Recents) != 1 {
		t.Fatalf("client at seq 2: %+v", convs)
	}
	// Excluding the type hides it.
	if convs := syncOf(`{"uid":"cb","exclude_channel_types":[2]}`); len(convs) != 0 {
		t.Fatalf("excluded groups: %+v", convs)
	}

	mustOK(t, post(t, s, "/conversations/setUnread", `{"uid":"cb","channel_id":"cg1","channel_type":2,"unread":1}`))
	if convs := syncOf(`{"uid":"cb"}`); len(convs) != 1 || convs[0].Unread != 1 || convs[0].ReadedToMsgSeq != 2 || len(convs[0].Recents) != 0 {
		t.Fatalf("after setUnread 1: %+v", convs)
	}
	// only_unread (and a version) limit recents to the unread ones.
	if convs := syncOf(`{"uid":"cb","only_unread":1,"msg_count":5}`); len(convs) != 1 || len(convs[0].Recents) != 1 {
		t.Fatalf("only_unread: %+v", convs)
	}
	mustOK(t, post(t, s, "/conversations/clearUnread", `{"uid":"cb","channel_id":"cg1","channel_type":2}`))
	if convs := syncOf(`{"uid":"cb"}`); len(convs) != 1 || convs[0].Unread != 0 || convs[0].ReadedToMsgSeq != 3 {
		t.Fatalf("after clearUnread: %+v", convs)
	}
	if convs := syncOf(`{"uid":"cb","only_unread":1}`); len(convs) != 0 {
		t.Fatalf("only_unread with nothing unread: %+v", convs)
	}
	mustOK(t, post(t, s, "/conversations/delete", `{"uid":"cb","channel_id":"cg1","channel_type":2}`))
	if convs := syncOf(`{"uid":"cb"}`); len(convs) != 0 {
		t.Fatalf("after delete: %+v", convs)
	}
}

func TestConversationSyncPages(t *testing.T) {
	s := newTestServer(t, Config{})
	for i := range 3 {
		g := fmt.Sprint("pgg", i)
		group(t, s, g, "pga", "pgb")
		sendMsg(t, s, fmt.Sprintf(`{"from_uid":"pga","channel_id":%q,"channel_type":2,"payload":"aGk="}`, g))
	}
	var all, p1, p2, p3 []conversationJSON
	post(t, s, "/conversation/sync", `{"uid":"pgb"}`).json(t, &all)
	post(t, s, "/conversation/sync", `{"uid":"pgb","page":1,"page_size":2}`).json(t, &p1)
	post(t, s, "/conversation/sync", `{"uid":"pgb","page":2,"page_size":2}`).json(t, &p2)
	post(t, s, "/conversation/sync", `{"uid":"pgb","page":3,"page_size":2}`).json(t, &p3)
	if len(all) != 3 || len(p1) != 2 || len(p2) != 1 || len(p3) != 0 || p1[0].ChannelID != all[0].ChannelID || p2[0].ChannelID != all[2].ChannelID {
		t.Fatalf("pages: all %d, %d %d %d", len(all), len(p1), len(p2), len(p3))
	}
}

func TestChannelRoutesGovernWhoMaySend(t *testing.T) {
	s := newTestServer(t, Config{})
	refused := func(body string, reason int) {
		t.Helper()
		r := post(t, s, "/message/send", body)
		var out struct {
			ReasonCode int `json:"reason_code"`
		}
		r.json(t, &out)
		if r.code != 400 || out.ReasonCode != reason {
			t.Fatalf("want refusal %d, got %d %s", reason, r.code, r.body)
		}
	}
	send := func(from string) string {
		return fmt.Sprintf(`{"from_uid":%q,"channel_id":"lg1","channel_type":2,"payload":"aGk="}`, from)
	}
	// subscriber_add creates the channel (type defaults to group).
	mustOK(t, post(t, s, "/channel/subscriber_add", `{"channel_id":"lg1","subscribers":["la","lb","lc"]}`))
	sendMsg(t, s, send("lc"))

	mustOK(t, post(t, s, "/channel/subscriber_remove", `{"channel_id":"lg1","channel_type":2,"subscribers":["lc"]}`))
	refused(send("lc"), 3)

	mustOK(t, post(t, s, "/channel/blacklist_add", `{"channel_id":"lg1","channel_type":2,"uids":["lb"]}`))
	refused(send("lb"), 4)
	mustOK(t, post(t, s, "/channel/blacklist_remove", `{"channel_id":"lg1","channel_type":2,"uids":["lb"]}`))
	sendMsg(t, s, send("lb"))
	mustOK(t, post(t, s, "/channel/blacklist_set", `{"channel_id":"lg1","channel_type":2,"uids":["lb"]}`))
	refused(send("lb"), 4)
	mustOK(t, post(t, s, "/channel/blacklist_remove_all", `{"channel_id":"lg1","channel_type":2}`))
	sendMsg(t, s, send("lb"))

	mustOK(t, post(t, s, "/channel/whitelist_add", `{"channel_id":"lg1","channel_type":2,"uids":["la"]}`))
	var wl []string
	get(t, s, "/channel/whitelist?channel_id=lg1&channel_type=2").json(t, &wl)
	if !slices.Equal(wl, []string{"la"}) {
		t.Fatalf("whitelist: %v", wl)
	}
	refused(send("lb"), 13)
	sendMsg(t, s, send("la"))
	mustOK(t, post(t, s, "/channel/whitelist_set", `{"channel_id":"lg1","channel_type":2,"uids":["la","lb"]}`))
	get(t, s, "/channel/whitelist?channel_id=lg1&channel_type=2").json(t, &wl)
	if slices.Sort(wl); !slices.Equal(wl, []string{"la", "lb"}) {
		t.Fatalf("whitelist after set: %v", wl)
	}
	mustOK(t, post(t, s, "/channel/whitelist_remove", `{"channel_id":"lg1","channel_type":2,"uids":["lb"]}`))
	refused(send("lb"), 13)
	mustOK(t, post(t, s, "/channel/whitelist_remove_all", `{"channel_id":"lg1","channel_type":2}`))
	if r := get(t, s, "/channel/whitelist?channel_id=lg1&channel_type=2"); strings.TrimSpace(r.body) != "[]" {
		t.Fatalf("whitelist after remove_all: %s", r.body)
	}
	sendMsg(t, s, send("lb"))

	mustOK(t, post(t, s, "/channel/info", `{"channel_id":"lg1","channel_type":2,"send_ban":true}`))
	refused(send("la"), 25)
	mustOK(t, post(t, s, "/channel", `{"channel_id":"lg1","channel_type":2,"disband":1}`))
	refused(send("la"), 24)
	mustOK(t, post(t, s, "/channel/delete", `{"channel_id":"lg1","channel_type":2}`))
	refused(send("la"), 5)
}

func TestSendBatchAndSubscribersSendPersonMessages(t *testing.T) {
	s := newTestServer(t, Config{})
	r := post(t, s, "/message/sendbatch", `{"from_uid":"ba","subscribers":["bb","bc"],"payload":"aGk="}`)
	must200(t, r)
	if strings.TrimSpace(r.body) != `{"fail_uids":[],"reason":[]}` {
		t.Fatalf("sendbatch: %s", r.body)
	}
	sendMsg(t, s, `{"from_uid":"ba","subscribers":["bd"],"payload":"aGk="}`)
	for _, to := range []string{"bb", "bc", "bd"} {
		var convs []conversationJSON
		post(t, s, "/conversation/sync", fmt.Sprintf(`{"uid":%q,"msg_count":1}`, to)).json(t, &convs)
		if len(convs) != 1 || convs[0].ChannelID != "ba" || convs[0].Unread != 1 {
			t.Fatalf("%s's conversations: %+v", to, convs)
		}
	}
	// A blacklisted recipient is reported, not fatal.
	mustOK(t, post(t, s, "/channel/blacklist_add", `{"channel_id":"bx","channel_type":1,"uids":["ba"]}`))
	var out struct {
		FailUIDs []string `json:"fail_uids"`
		Reason   []string `json:"reason"`
	}
	post(t, s, "/message/sendbatch", `{"from_uid":"ba","subscribers":["bb","bx"],"payload":"aGk="}`).json(t, &out)
	if !slices.Equal(out.FailUIDs, []string{"bx"}) || len(out.Reason) != 1 {
		t.Fatalf("sendbatch with a blacklisted recipient: %+v", out)
	}
}

func TestJSONIsSnakeCase(t *testing.T) {
	b, _ := json.Marshal(viewConversation(convForJSON(), "x"))
	for _, k := range []string{`"channel_id"`, `"channel_type"`, `"unread"`, `"timestamp"`, `"last_msg_seq"`, `"last_client_msg_no"`,
		`"offset_msg_seq"`, `"readed_to_msg_seq"`, `"version"`, `"recents":[]`} {
		if !strings.Contains(string(b), k) {
			t.Errorf("conversation JSON lacks %s: %s", k, b)
		}
	}
}
