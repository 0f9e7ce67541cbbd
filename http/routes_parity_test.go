package http

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/wkclient"
)

// The routes of WuKongIM v2.2.5 added beside routes.go's.

func dialTestNode(t *testing.T, uid string) *wkclient.NetClient {
	t.Helper()
	c, err := wkclient.DialTCP(testHost.TCPAddr().String(), wkclient.Options{UID: uid, DeviceID: uid + "-d"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// connIDOf is the id /connz shows for uid's one connection.
func connIDOf(t *testing.T, s *Server, uid string) uint64 {
	t.Helper()
	var cz struct {
		Connections []struct {
			ID uint64 `json:"id"`
		} `json:"connections"`
	}
	get(t, s, "/connz?uid="+uid).json(t, &cz)
	if len(cz.Connections) != 1 {
		t.Fatalf("connz of %s: %+v", uid, cz)
	}
	return cz.Connections[0].ID
}

func TestConnKickDisconnectsAndConnRemoveCloses(t *testing.T) {
	s := newTestServer(t, Config{})
	kicked, removed := dialTestNode(t, "kick-a"), dialTestNode(t, "kick-b")
	mustOK(t, post(t, s, "/conn/kick", fmt.Sprintf(`{"uid":"kick-a","conn_id":%d}`, connIDOf(t, s, "kick-a"))))
	p, err := kicked.Next(time.Now().Add(5 * time.Second))
	if d, ok := p.(*proto.Disconnect); err != nil || !ok || d.ReasonCode != proto.ReasonConnectKick || d.Reason != "server kick" {
		t.Fatalf("kicked connection got %+v, %v", p, err)
	}
	mustOK(t, post(t, s, "/conn/remove", fmt.Sprintf(`{"uid":"kick-b","conn_id":%d}`, connIDOf(t, s, "kick-b"))))
	if p, err := removed.Next(time.Now().Add(5 * time.Second)); !errors.Is(err, io.EOF) && (err == nil || !strings.Contains(err.Error(), "closed")) {
		t.Fatalf("removed connection got %+v, %v; want it closed without a word", p, err)
	}
	// A connection that is gone is no error, as in WuKongIM.
	mustOK(t, post(t, s, "/conn/remove", `{"uid":"kick-b","conn_id":999999}`))
	for _, tc := range []struct{ body, field string }{
		{`{"uid":"a"}`, "conn_id"},
		{`{"uid":"a","conn_id":-1}`, "conn_id"},
		{`{"conn_id":1}`, "uid"},
		{`{"uid":"a","conn_id":"one"}`, "conn_id"},
	} {
		mustBad(t, post(t, s, "/conn/kick", tc.body), tc.field)
		mustBad(t, post(t, s, "/conn/remove", tc.body), tc.field)
	}
	mustBad(t, post(t, newTestServer(t, Config{ServerID: 1}), "/conn/kick", `{"uid":"a","conn_id":1,"node_id":2}`), "node_id")
}

func TestRouteBatchAndVarzSettingHaveWuKongIMsShapes(t *testing.T) {
	s := newTestServer(t, Config{TCPAddr: "t:1", WSAddr: "ws://w:2"})
	r := post(t, s, "/route/batch", `["a","b"]`)
	if r.code != 200 || strings.TrimSpace(r.body) != `[{"tcp_addr":"t:1","ws_addr":"ws://w:2","wss_addr":"","uids":["a","b"]}]` {
		t.Fatalf("route/batch: %d %s", r.code, r.body)
	}
	mustBad(t, post(t, s, "/route/batch", `{"uids":["a"]}`), "body")
	r = get(t, s, "/varz/setting")
	if r.code != 200 || strings.TrimSpace(r.body) != `{"logger":{"trace_on":0,"loki_on":0},"prometheus_on":1,"stress_on":0}` {
		t.Fatalf("varz/setting: %d %s", r.code, r.body)
	}
}

func TestSystemUIDCacheRoutesChangeTheSystemUIDs(t *testing.T) {
	s := newTestServer(t, Config{})
	mustOK(t, post(t, s, "/user/systemuids_add_to_cache", `{"uids":["cache-sys"]}`))
	if r := get(t, s, "/user/systemuids"); !strings.Contains(r.body, `"cache-sys"`) {
		t.Fatalf("after add_to_cache: %s", r.body)
	}
	mustOK(t, post(t, s, "/user/systemuids_remove_from_cache", `{"uids":["cache-sys"]}`))
	if r := get(t, s, "/user/systemuids"); strings.Contains(r.body, `"cache-sys"`) {
		t.Fatalf("after remove_from_cache: %s", r.body)
	}
	mustBad(t, post(t, s, "/user/systemuids_add_to_cache", `{"uids":"x"}`), "uids")
}

func TestSubscriberRemoveAllEmptiesTheGroup(t *testing.T) {
	s := newTestServer(t, Config{})
	mustOK(t, post(t, s, "/channel", `{"channel_id":"rmall","channel_type":2,"subscribers":["ra1","ra2"]}`))
	if r := post(t, s, "/message/send", `{"from_uid":"ra1","channel_id":"rmall","channel_type":2,"payload":"eA=="}`); r.code != 200 {
		t.Fatalf("a subscriber's send: %d %s", r.code, r.body)
	}
	mustOK(t, post(t, s, "/channel/subscriber_remove_all", `{"channel_id":"rmall","channel_type":2}`))
	r := post(t, s, "/message/send", `{"from_uid":"ra1","channel_id":"rmall","channel_type":2,"payload":"eA=="}`)
	if r.code != 400 || !strings.Contains(r.body, `"reason_code":3`) {
		t.Fatalf("a removed subscriber's send: %d %s; want refused with reason 3", r.code, r.body)
	}
	mustBad(t, post(t, s, "/channel/subscriber_remove_all", `{"channel_id":"u","channel_type":1}`), "subscribers")
	mustBad(t, post(t, s, "/channel/subscriber_remove_all", `{"channel_type":2}`), "channel_id")
}

func TestOneMessageReadsByIDClientMsgNoAndLast(t *testing.T) {
	s := newTestServer(t, Config{})
	type sendReply struct {
		Data struct {
			MessageID int64 `json:"message_id"`
		} `json:"data"`
	}
	var sent []sendReply
	for i := range 5 {
		r := post(t, s, "/message/send", fmt.Sprintf(`{"from_uid":"om-a","channel_id":"om-b","channel_type":1,"client_msg_no":"om-%d","payload":"eA=="}`, i))
		must200(t, r)
		var one sendReply
		r.json(t, &one)
		sent = append(sent, one)
	}
	seqOf := func(r resp) float64 {
		t.Helper()
		must200(t, r)
		return r.object(t)["message_seq"].(float64)
	}
	for i, m := range sent {
		byID := post(t, s, "/message", fmt.Sprintf(`{"login_uid":"om-b","channel_id":"om-a","channel_type":1,"message_id":%d}`, m.Data.MessageID))
		if seqOf(byID) != float64(i+1) || byID.object(t)["channel_id"] != "om-a" {
			t.Fatalf("by id: %s", byID.body)
		}
		byNo := post(t, s, "/message", fmt.Sprintf(`{"login_uid":"om-a","channel_id":"om-b","channel_type":1,"client_msg_no":"om-%d"}`, i))
		if seqOf(byNo) != float64(i+1) {
			t.Fatalf("by client_msg_no: %s", byNo.body)
		}
	}
	get1 := get(t, s, "/message/byclientmsgno?channel_id=om-b&channel_type=1&login_uid=om-a&client_msg_no=om-3")
	if seqOf(get1) != 4 {
		t.Fatalf("GET byclientmsgno: %s", get1.body)
	}
	if last := get(t, s, "/channel/last_message?login_uid=om-a&channel_id=om-b&channel_type=1"); seqOf(last) != 5 {
		t.Fatalf("last message: %s", last.body)
	}
	for _, r := range []resp{
		post(t, s, "/message", `{"login_uid":"om-a","channel_id":"om-b","channel_type":1,"message_id":1}`),
		post(t, s, "/message", `{"login_uid":"om-a","channel_id":"om-b","channel_type":1,"client_msg_no":"never"}`),
		get(t, s, "/message/byclientmsgno?channel_id=g-none&channel_type=2&client_msg_no=x"),
		get(t, s, "/channel/last_message?channel_id=g-none&channel_type=2"),
	} {
		if r.code != 404 || r.object(t)["msg"] != "message not found" {
			t.Fatalf("a missing message: %d %s", r.code, r.body)
		}
	}
	for _, tc := range []struct {
		r     resp
		field string
	}{
		{post(t, s, "/message", `{"channel_id":"om-b","channel_type":1,"message_id":1}`), "login_uid"},
		{post(t, s, "/message", `{"login_uid":"om-a","channel_id":"om-b","channel_type":1}`), "message_id"},
		{post(t, s, "/message", `{"login_uid":"om-a","channel_type":1,"message_id":1}`), "channel_id"},
		{post(t, s, "/message", `{"login_uid":"om-a","channel_id":"om-b","channel_type":1,"message_id":"1"}`), "message_id"},
		{get(t, s, "/message/byclientmsgno?channel_id=om-b&channel_type=1&login_uid=om-a"), "client_msg_no"},
		{get(t, s, "/message/byclientmsgno?channel_id=om-b&channel_type=x&client_msg_no=a"), "channel_type"},
		{get(t, s, "/channel/last_message?channel_id=om-b&channel_type=1"), "login_uid"},
		{get(t, s, "/channel/last_message?channel_type=2"), "channel_id"},
	} {
		mustBad(t, tc.r, tc.field)
	}
}

func TestRoutesJindouLeavesOutAnswer404NamingThem(t *testing.T) {
	s := newTestServer(t, Config{})
	for _, tc := range []struct{ method, path, say string }{
		{"POST", "/user/update_plugin_no", "plugins are not supported"},
		{"GET", "/tags", "tags are"},
		{"GET", "/migrate/result", "no WuKongIM v1 data"},
		{"POST", "/no/such/route", "not a route Jindou serves"},
	} {
		r := do(t, s, tc.method, tc.path, "{}")
		var body struct {
			Status      int    `json:"status"`
			Msg         string `json:"msg"`
			Route       string `json:"route"`
			Unsupported bool   `json:"unsupported"`
		}
		r.json(t, &body)
		if r.code != 404 || body.Status != 404 || body.Route != tc.method+" "+tc.path || !body.Unsupported || !strings.Contains(body.Msg, tc.say) {
			t.Fatalf("%s %s: %d %s", tc.method, tc.path, r.code, r.body)
		}
	}
}

func TestConversationChannelsAndSyncByChannels(t *testing.T) {
	s := newTestServer(t, Config{})
	mustOK(t, post(t, s, "/channel", `{"channel_id":"cbc-g","channel_type":2,"subscribers":["cbc-a","cbc-b"]}`))
	mustOK(t, post(t, s, "/channel", `{"channel_id":"cbc-other","channel_type":2,"subscribers":["cbc-b"]}`))
	for _, body := range []string{
		`{"from_uid":"cbc-b","channel_id":"cbc-a","channel_type":1,"payload":"eA=="}`,
		`{"from_uid":"cbc-b","channel_id":"cbc-g","channel_type":2,"payload":"eA=="}`,
		`{"from_uid":"cbc-b","channel_id":"cbc-g","channel_type":2,"payload":"eQ=="}`,
		`{"from_uid":"cbc-b","channel_id":"cbc-other","channel_type":2,"payload":"eg=="}`,
	} {
		must200(t, post(t, s, "/message/send", body))
	}
	var chans []channelRefJSON
	post(t, s, "/conversation/channels", `{"uid":"cbc-a"}`).json(t, &chans)
	if len(chans) != 2 || !slices.Contains(chans, channelRefJSON{"cbc-b", 1}) || !slices.Contains(chans, channelRefJSON{"cbc-g", 2}) {
		t.Fatalf("channels of cbc-a: %+v", chans)
	}
	var convs []conversationJSON
	post(t, s, "/conversation/syncByChannels", `{"uid":"cbc-a","msg_count":1,"channels":[{"channel_id":"cbc-g","channel_type":2},{"channel_id":"cbc-other","channel_type":2}]}`).json(t, &convs)
	if len(convs) != 2 || convs[0].ChannelID != "cbc-g" || convs[0].Unread != 2 || len(convs[0].Recents) != 1 || convs[0].Recents[0].MessageSeq != 2 ||
		convs[1].ChannelID != "cbc-other" || convs[1].LastMsgSeq != 1 || convs[1].ReadedToMsgSeq != 0 || len(convs[1].Recents) != 1 {
		t.Fatalf("syncByChannels: %+v", convs)
	}
	for _, tc := range []struct{ path, body, field string }{
		{"/conversation/channels", `{}`, "uid"},
		{"/conversation/syncByChannels", `{"uid":"a"}`, "channels"},
		{"/conversation/syncByChannels", `{"uid":"a","channels":[{"channel_id":"g","channel_type":10}]}`, "channels.channel_type"},
		{"/conversation/syncByChannels", `{"uid":"a","channels":[{"channel_type":2}]}`, "channels.channel_id"},
		{"/conversation/syncByChannels", `{"uid":"a","msg_count":-1,"channels":[{"channel_id":"g","channel_type":2}]}`, "msg_count"},
	} {
		mustBad(t, post(t, s, tc.path, tc.body), tc.field)
	}
}

func TestConversationSyncMessagesReadsUpOrNewestFirst(t *testing.T) {
	s := newTestServer(t, Config{})
	mustOK(t, post(t, s, "/channel", `{"channel_id":"csm-g","channel_type":2,"subscribers":["csm-a"]}`))
	for i := range 6 {
		must200(t, post(t, s, "/message/send", fmt.Sprintf(`{"from_uid":"csm-a","channel_id":"csm-g","channel_type":2,"client_msg_no":"c%d","payload":"eA=="}`, i)))
	}
	seqs := func(body string) [][]uint64 {
		t.Helper()
		var out []struct {
			ChannelID string `json:"channel_id"`
			Messages  []struct {
				MessageSeq uint64 `json:"message_seq"`
			} `json:"messages"`
		}
		r := post(t, s, "/conversation/syncMessages", body)
		must200(t, r)
		r.json(t, &out)
		var got [][]uint64
		for _, ch := range out {
			var one []uint64
			for _, m := range ch.Messages {
				one = append(one, m.MessageSeq)
			}
			got = append(got, one)
		}
		return got
	}
	for _, tc := range []struct {
		body string
		want [][]uint64
	}{
		{`{"uid":"csm-a","msg_count":2,"channels":[{"channel_id":"csm-g","channel_type":2,"last_msg_seq":3}]}`, [][]uint64{{3, 4}}},
		{`{"uid":"csm-a","msg_count":2,"order_by_last":1,"channels":[{"channel_id":"csm-g","channel_type":2,"last_msg_seq":3}]}`, [][]uint64{{6, 5}}},
		{`{"uid":"csm-a","msg_count":10,"order_by_last":1,"channels":[{"channel_id":"csm-g","channel_type":2,"last_msg_seq":5}]}`, [][]uint64{{6, 5}}},
		{`{"uid":"csm-a","order_by_last":1,"channels":[{"channel_id":"csm-g","channel_type":2},{"channel_id":"csm-none","channel_type":2}]}`, [][]uint64{{6, 5, 4, 3, 2, 1}, nil}},
	} {
		if got := seqs(tc.body); !slices.EqualFunc(got, tc.want, slices.Equal) {
			t.Fatalf("%s: seqs %v, want %v", tc.body, got, tc.want)
		}
	}
	for _, tc := range []struct{ body, field string }{
		{`{"channels":[]}`, "uid"},
		{`{"uid":"a","msg_count":-1}`, "msg_count"},
		{`{"uid":"a","channels":[{"channel_id":"g","channel_type":10}]}`, "channels.channel_type"},
		{`{"uid":"a","channels":[{"channel_id":"g","channel_type":2,"last_msg_seq":"x"}]}`, "channels.last_msg_seq"},
	} {
		mustBad(t, post(t, s, "/conversation/syncMessages", tc.body), tc.field)
	}
}
