package node

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"slices"
	"testing"

	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/node/state"
)

var hookTestMsg = &state.Message{MessageID: 42, Seq: 7, ClientMsgNo: "c1", FromUID: "alice",
	Channel: state.ChannelKey{Type: proto.ChannelPerson, ID: state.PersonChannelID("alice", "bob")}, Timestamp: 99, Payload: []byte("hi")}

func TestNotifyBodyIsWuKongIMsMessageArray(t *testing.T) {
	var got []map[string]any
	if err := json.Unmarshal(notifyBody([]*state.Message{hookTestMsg}), &got); err != nil || len(got) != 1 {
		t.Fatalf("body %v: %v", got, err)
	}
	m := got[0]
	for _, k := range []string{"header", "setting", "message_id", "message_idstr", "client_msg_no", "message_seq", "from_uid", "channel_id", "channel_type", "expire", "timestamp", "payload"} {
		if _, ok := m[k]; !ok {
			t.Fatalf("no %q in %v", k, m)
		}
	}
	if m["channel_id"] != "bob" || m["message_idstr"] != "42" || m["payload"] != "aGk=" || m["message_seq"] != 7.0 {
		t.Fatalf("fields %v", m)
	}
	if _, ok := m["topic"]; ok {
		t.Fatal("an empty topic is shown")
	}
}

func TestOfflineBodyCompressesRecipientsOverTheThreshold(t *testing.T) {
	to := []string{"bob", "carol", "dave"}
	var plain, packed hookOffline
	if err := json.Unmarshal(offlineBody(hookTestMsg, to, 3, 1), &plain); err != nil {
		t.Fatal(err)
	}
	if plain.Compress != "" || !slices.Equal(plain.ToUIDs, to) || plain.SourceID != 1 {
		t.Fatalf("at the threshold: %+v", plain)
	}
	if err := json.Unmarshal(offlineBody(hookTestMsg, to, 2, 1), &packed); err != nil {
		t.Fatal(err)
	}
	if packed.Compress != "gzip" || len(packed.ToUIDs) != 0 {
		t.Fatalf("over the threshold: %+v", packed)
	}
	zr, err := gzip.NewReader(bytes.NewReader(packed.CompressToUIDs))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(zr)
	var got []string
	if err := json.Unmarshal(raw, &got); err != nil || !slices.Equal(got, to) {
		t.Fatalf("compressed %q: %v", raw, err)
	}
}

func TestStatusLineIsWuKongIMsFormat(t *testing.T) {
	if got := statusLine("u-1", 1, true, 12, 1, 3); got != "u-1-1-1-12-1-3" {
		t.Fatalf("line %q", got)
	}
}

func TestWebhookBackoffDoublesToItsCap(t *testing.T) {
	h := &hooks{cfg: WebhookConfig{MaxBackoff: 700 * 1e6}}
	var got []int64
	for n := 1; n <= 5; n++ {
		got = append(got, h.backoff(n).Milliseconds())
	}
	if !slices.Equal(got, []int64{100, 200, 400, 700, 700}) {
		t.Fatalf("backoffs %v", got)
	}
}

func TestWebhookConfigRefusesUnknownEvents(t *testing.T) {
	if err := (WebhookConfig{Events: []string{"msg.notify", "msg.bogus"}}).Validate(); err == nil {
		t.Fatal("an unknown event was accepted")
	}
	w := WebhookConfig{URL: "http://x/hook?k=v", Events: []string{EventMsgOffline}}
	if !w.On(EventMsgOffline) || w.On(EventMsgNotify) || (WebhookConfig{Events: nil}).On(EventMsgNotify) {
		t.Fatal("On does not follow URL and Events")
	}
	if got := w.eventURL(EventMsgOffline); got != "http://x/hook?k=v&event=msg.offline" {
		t.Fatalf("url %q", got)
	}
}
