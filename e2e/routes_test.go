package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// route is one call of the API: what to send, and what must come back.
type route struct {
	method, path string
	body         any // JSON-encoded unless a string
	// status is the expected HTTP status; field, for a 400, is a name the
	// error message must mention.
	status int
	field  string
}

func (p *proc) call(t *testing.T, r route) (int, string) {
	t.Helper()
	var body io.Reader
	if r.body != nil {
		b, ok := r.body.(string)
		if !ok {
			raw, err := json.Marshal(r.body)
			if err != nil {
				t.Fatal(err)
			}
			b = string(raw)
		}
		body = strings.NewReader(b)
	}
	req, err := http.NewRequest(r.method, p.HTTP+r.path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(bytes.TrimSpace(out))
}

// TestEveryRouteAnswersGoodAndBadInputOverTheBinary calls every route of
// API.md on the real binary, each with good input and, where it takes any,
// bad input that must be a 400 naming the field.
func TestEveryRouteAnswersGoodAndBadInputOverTheBinary(t *testing.T) {
	p := startNode(t, nodeOpts{})
	payload := base64.StdEncoding.EncodeToString([]byte("hello"))
	g := map[string]any{"channel_id": "g1", "channel_type": 2}
	with := func(m map[string]any, kv ...any) map[string]any {
		out := map[string]any{}
		for k, v := range m {
			out[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i].(string)] = kv[i+1]
		}
		return out
	}
	ok, bad := http.StatusOK, http.StatusBadRequest
	routes := []route{
		{"POST", "/user/token", map[string]any{"uid": "u1", "token": "t", "device_flag": 0, "device_level": 1}, ok, ""},
		{"POST", "/user/token", map[string]any{"uid": 5, "token": "t"}, bad, "uid"},
		{"POST", "/user/onlinestatus", []string{"u1"}, ok, ""},
		{"POST", "/user/onlinestatus", `{"uids":1}`, bad, "body"},
		{"POST", "/user/systemuids_add", map[string]any{"uids": []string{"sys1"}}, ok, ""},
		{"POST", "/user/systemuids_add", map[string]any{"uids": "sys1"}, bad, "uids"},
		{"GET", "/user/systemuids", nil, ok, ""},
		{"POST", "/user/systemuids_remove", map[string]any{"uids": []string{"sys1"}}, ok, ""},
		{"POST", "/channel", with(g, "subscribers", []string{"u1", "u2", "u3"}), ok, ""},
		{"POST", "/channel", map[string]any{"channel_id": "u1", "channel_type": 1, "subscribers": []string{"u2"}}, bad, "subscribers"},
		{"POST", "/channel/info", with(g, "ban", 0), ok, ""},
		{"POST", "/channel/info", map[string]any{"channel_type": 2}, bad, "channel_id"},
		{"POST", "/channel/subscriber_add", with(g, "subscribers", []string{"u4"}), ok, ""},
		{"POST", "/channel/subscriber_add", with(g, "channel_type", 99, "subscribers", []string{"u4"}), bad, "channel_type"},
		{"POST", "/channel/subscriber_remove", with(g, "subscribers", []string{"u4"}), ok, ""},
		{"POST", "/channel/blacklist_add", with(g, "uids", []string{"u9"}), ok, ""},
		{"POST", "/channel/blacklist_set", with(g, "uids", []string{"u9"}), ok, ""},
		{"POST", "/channel/blacklist_remove", with(g, "uids", []string{"u9"}), ok, ""},
		{"POST", "/channel/blacklist_remove_all", g, ok, ""},
		{"POST", "/channel/blacklist_add", with(g, "uids", []string{"bad@uid"}), bad, "uids"},
		{"POST", "/channel/whitelist_add", with(g, "uids", []string{"u1"}), ok, ""},
		{"POST", "/channel/whitelist_set", with(g, "uids", []string{"u1", "u2"}), ok, ""},
		{"GET", "/channel/whitelist?channel_id=g1&channel_type=2", nil, ok, ""},
		{"GET", "/channel/subscribers?channel_id=g1&channel_type=2&limit=10", nil, ok, ""},
		{"GET", "/channel/subscribers?channel_id=g1&channel_type=2&limit=1001", nil, bad, "limit"},
		{"POST", "/channel/whitelist_remove", with(g, "uids", []string{"u2"}), ok, ""},
		{"POST", "/channel/whitelist_remove_all", g, ok, ""},
		{"POST", "/message/send", with(g, "from_uid", "u1", "client_msg_no", "c1", "payload", payload), ok, ""},
		{"POST", "/message/send", with(g, "from_uid", "u1", "payload", "%%%"), bad, "payload"},
		{"POST", "/message/sendbatch", map[string]any{"from_uid": "u1", "subscribers": []string{"u2", "u3"}, "payload": payload}, ok, ""},
		{"POST", "/message/sendbatch", map[string]any{"from_uid": "u1", "subscribers": "u2", "payload": payload}, bad, "subscribers"},
		{"POST", "/channel/messagesync", with(g, "login_uid", "u1", "start_message_seq", 1, "limit", 10, "pull_mode", 1), ok, ""},
		{"POST", "/channel/messagesync", with(g, "login_uid", "u1", "pull_mode", "up"), bad, "pull_mode"},
		{"GET", "/channel/max_message_seq?channel_id=g1&channel_type=2", nil, ok, ""},
		{"GET", "/channel/max_message_seq?channel_id=g1&channel_type=x", nil, bad, "channel_type"},
		{"POST", "/messages", with(g, "login_uid", "u1", "message_seqs", []int{1}), ok, ""},
		{"POST", "/messages", with(g, "login_uid", "u1", "message_seqs", "1"), bad, "message_seqs"},
		{"POST", "/message", with(g, "client_msg_no", "c1"), ok, ""},
		{"POST", "/message", with(g, "message_id", "1"), bad, "message_id"},
		{"GET", "/message/byclientmsgno?channel_id=g1&channel_type=2&client_msg_no=c1", nil, ok, ""},
		{"GET", "/message/byclientmsgno?channel_id=g1&channel_type=2", nil, bad, "client_msg_no"},
		{"GET", "/channel/last_message?channel_id=g1&channel_type=2", nil, ok, ""},
		{"GET", "/channel/last_message?channel_id=g1&channel_type=x", nil, bad, "channel_type"},
		{"POST", "/conversation/sync", map[string]any{"uid": "u2", "msg_count": 1}, ok, ""},
		{"POST", "/conversation/sync", map[string]any{"uid": "", "msg_count": 1}, bad, "uid"},
		{"POST", "/conversation/channels", map[string]any{"uid": "u2"}, ok, ""},
		{"POST", "/conversation/channels", map[string]any{"uid": 2}, bad, "uid"},
		{"POST", "/conversation/syncByChannels", map[string]any{"uid": "u2", "channels": []any{g}}, ok, ""},
		{"POST", "/conversation/syncByChannels", map[string]any{"uid": "u2"}, bad, "channels"},
		{"POST", "/conversation/syncMessages", map[string]any{"uid": "u2", "channels": []any{g}, "order_by_last": 1}, ok, ""},
		{"POST", "/conversation/syncMessages", map[string]any{"uid": "u2", "msg_count": "ten"}, bad, "msg_count"},
		{"POST", "/conversations/clearUnread", with(g, "uid", "u2", "message_seq", 0), ok, ""},
		{"POST", "/conversations/setUnread", with(g, "uid", "u2", "unread", 1), ok, ""},
		{"POST", "/conversations/setUnread", with(g, "uid", "u2", "unread", "many"), bad, "unread"},
		{"POST", "/conversations/delete", with(g, "uid", "u2"), ok, ""},
		{"POST", "/user/device_quit", map[string]any{"uid": "u1", "device_flag": -1}, ok, ""},
		{"POST", "/user/device_quit", map[string]any{"uid": "u1", "device_flag": "all"}, bad, "device_flag"},
		{"POST", "/channel/subscriber_remove_all", g, ok, ""},
		{"POST", "/channel/subscriber_remove_all", map[string]any{"channel_id": "u1", "channel_type": 1}, bad, "subscribers"},
		{"POST", "/tag/remove", map[string]any{}, http.StatusNotFound, ""},
		{"POST", "/conversation/nope", map[string]any{}, http.StatusNotFound, ""},
		{"POST", "/channel/delete", g, ok, ""},
		{"POST", "/channel/delete", map[string]any{"channel_id": "g1"}, bad, "channel_type"},
		{"GET", "/route?uid=u1", nil, ok, ""},
		{"POST", "/route/batch", []string{"u1", "u2"}, ok, ""},
		{"POST", "/route/batch", `{"uids":["u1"]}`, bad, "body"},
		{"GET", "/varz/setting", nil, ok, ""},
		{"POST", "/user/systemuids_add_to_cache", map[string]any{"uids": []string{"sys2"}}, ok, ""},
		{"POST", "/user/systemuids_remove_from_cache", map[string]any{"uids": []string{"sys2"}}, ok, ""},
		{"POST", "/user/systemuids_remove_from_cache", map[string]any{"uids": 2}, bad, "uids"},
		{"POST", "/conn/kick", map[string]any{"uid": "u1", "conn_id": 12345}, ok, ""},
		{"POST", "/conn/kick", map[string]any{"uid": "u1"}, bad, "conn_id"},
		{"POST", "/conn/remove", map[string]any{"uid": "u1", "conn_id": 12345}, ok, ""},
		{"POST", "/conn/remove", map[string]any{"conn_id": 12345}, bad, "uid"},
		{"GET", "/healthz", nil, ok, ""},
		{"GET", "/readyz", nil, ok, ""},
		{"GET", "/varz", nil, ok, ""},
		{"GET", "/connz?offset=0&limit=10", nil, ok, ""},
		{"GET", "/metrics", nil, ok, ""},
	}
	for _, r := range routes {
		status, body := p.call(t, r)
		if status != r.status {
			t.Errorf("%s %s %v: HTTP %d %s, want %d", r.method, r.path, r.body, status, body, r.status)
			continue
		}
		if r.status == bad && !strings.Contains(body, r.field) {
			t.Errorf("%s %s %v: the 400 does not name %q: %s", r.method, r.path, r.body, r.field, body)
		}
	}
}
