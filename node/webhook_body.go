package node

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"strconv"

	"github.com/jindou-im/jindou/node/state"
)

// The bodies of the webhook POSTs, in WuKongIM's JSON shapes
// (internal/types/message.go MessageResp, internal/types/webhook.go
// MessageOfflineNotify, internal/webhook/webhook.go's online-status lines).

// hookMessage is the message a webhook carries (MessageJSON).
type hookMessage = MessageJSON

// hookOffline is WuKongIM's MessageOfflineNotify: the message and the
// recipients to push to, plain or gzip-compressed.
type hookOffline struct {
	hookMessage
	ToUIDs         []string `json:"to_uids"`
	Compress       string   `json:"compress,omitempty"`
	CompressToUIDs []byte   `json:"compress_to_uids,omitempty"`
	SourceID       int64    `json:"source_id,omitempty"`
}

// hookMessageOf is m as WuKongIM shows it to a back end: a person chat is
// named by the party other than the sender.
func hookMessageOf(m *state.Message) hookMessage { return ViewMessage(m, "") }

// notifyBody is a msg.notify POST: a JSON array of messages.
func notifyBody(msgs []*state.Message) []byte {
	out := make([]hookMessage, len(msgs))
	for i, m := range msgs {
		out[i] = hookMessageOf(m)
	}
	return mustJSON(out)
}

// offlineBody is a msg.offline POST for one message; over compressOver
// recipients (when it is set) they go gzip-compressed, as WuKongIM sends
// them.
func offlineBody(m *state.Message, to []string, compressOver int, node uint64) []byte {
	body := hookOffline{hookMessage: hookMessageOf(m), ToUIDs: to, SourceID: int64(node)}
	if compressOver > 0 && len(to) > compressOver {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		_, _ = zw.Write(mustJSON(to)) // a bytes.Buffer does not fail
		_ = zw.Close()
		body.ToUIDs, body.Compress, body.CompressToUIDs = []string{}, "gzip", buf.Bytes()
	}
	return mustJSON(body)
}

// statusLine is one user.onlinestatus entry, WuKongIM's
// "uid-deviceFlag-online-connID-deviceOnlineCount-totalOnlineCount".
func statusLine(uid string, flag uint8, online bool, conn uint64, deviceCount, totalCount int) string {
	b := make([]byte, 0, len(uid)+24)
	b = append(b, uid...)
	b = append(append(b, '-'), strconv.Itoa(int(flag))...)
	b = append(append(b, '-'), strconv.Itoa(b2i(online))...)
	b = append(append(b, '-'), strconv.FormatUint(conn, 10)...)
	b = append(append(b, '-'), strconv.Itoa(deviceCount)...)
	b = append(append(b, '-'), strconv.Itoa(totalCount)...)
	return string(b)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("node: webhook body: " + err.Error()) // the shapes above always encode
	}
	return b
}
