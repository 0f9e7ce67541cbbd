package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/wkclient"
)

// sdkScript builds tools/sdke2e once (installing its pinned npm packages
// if missing) and returns the path of chat.mjs.
var sdkScript = sync.OnceValues(func() (string, error) {
	build := filepath.Join("..", "tools", "sdke2e", "build.sh")
	var stderr bytes.Buffer
	cmd := exec.Command("bash", build)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", errors.New("tools/sdke2e/build.sh: " + err.Error() + ": " + stderr.String())
	}
	return strings.TrimSpace(string(out)), nil
})

// sdkResult is what tools/sdke2e/src/chat.mjs prints.
type sdkResult struct {
	OK           bool   `json:"ok"`
	Error        string `json:"error"`
	ProtoVersion int    `json:"protoVersion"`
	Results      []struct {
		Kind, From, To, Text string
		ClientSeq            uint32 `json:"clientSeq"`
		ClientMsgNo          string `json:"clientMsgNo"`
		Sendack              struct {
			ClientSeq  uint32 `json:"clientSeq"`
			MessageSeq uint64 `json:"messageSeq"`
			MessageID  string `json:"messageID"`
			ReasonCode int    `json:"reasonCode"`
		} `json:"sendack"`
		Recv struct {
			FromUID     string `json:"fromUID"`
			ChannelID   string `json:"channelID"`
			ChannelType uint8  `json:"channelType"`
			MessageSeq  uint64 `json:"messageSeq"`
			MessageID   string `json:"messageID"`
			ClientMsgNo string `json:"clientMsgNo"`
			Text        string `json:"text"`
		} `json:"recv"`
	} `json:"results"`
	Extra []json.RawMessage `json:"extra"`
}

// TestOfficialSDKChatsInPersonAndGroupChannels: two users of the official
// JS SDK (WebSocket, protocol 2, encrypted) each send into a person and a
// group channel; each send is acknowledged with its seq, the other side
// receives and decrypts it, and history holds the messages at those seqs.
func TestOfficialSDKChatsInPersonAndGroupChannels(t *testing.T) {
	p := startNode(t, nodeOpts{})
	sdkChat(t, p, map[string]string{"alice": "", "bob": ""})
}

// TestOfficialSDKChatsWithTokenAuth: the same with token auth on (set by a
// YAML config file), tokens set through POST /user/token; a wrong token
// is refused with CONNACK reason AuthFail.
func TestOfficialSDKChatsWithTokenAuth(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "jindou.yaml")
	if err := os.WriteFile(cfg, []byte("token_auth: true\nslots: 16\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startNode(t, nodeOpts{args: []string{"--config", cfg}})
	tokens := map[string]string{"alice": "alice-secret-1", "bob": "bob-secret-2"}
	for uid, tok := range tokens {
		p.mustPost("/user/token", map[string]any{"uid": uid, "token": tok, "device_flag": 1, "device_level": 1}, nil)
	}
	_, err := wkclient.DialWS(p.WS, wkclient.Options{UID: "alice", Token: "wrong", DeviceFlag: proto.DeviceWeb})
	var refused *wkclient.ConnackError
	if !errors.As(err, &refused) || refused.Reason != proto.ReasonAuthFail {
		t.Fatalf("connect with a wrong token: %v; want CONNACK reason %d", err, proto.ReasonAuthFail)
	}
	sdkChat(t, p, tokens)
}

func sdkChat(t *testing.T, p *proc, tokens map[string]string) {
	t.Helper()
	sdkChatAcross(t, p, p, p, tokens)
}

// sdkChatAcross runs the SDK chat with alice connected to a, bob to b,
// the setup done on a and the history read on reader.
func sdkChatAcross(t *testing.T, a, b, reader *proc, tokens map[string]string) sdkResult {
	t.Helper()
	p := a
	script, err := sdkScript()
	if err != nil {
		t.Fatal(err)
	}
	const group = "e2e-group"
	p.mustPost("/channel", map[string]any{"channel_id": group, "channel_type": 2, "subscribers": []string{"alice", "bob"}}, nil)

	in, _ := json.Marshal(map[string]any{"ws": p.WS, "group": group, "users": []map[string]string{
		{"uid": "alice", "token": tokens["alice"], "ws": a.WS}, {"uid": "bob", "token": tokens["bob"], "ws": b.WS}}})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "--experimental-websocket", "--no-warnings", script, string(in))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var res sdkResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil || !res.OK {
		t.Fatalf("SDK run: %v (%v); result %s %s\nstderr: %s", runErr, err, stdout.String(), res.Error, stderr.String())
	}
	t.Logf("SDK (protocol %d): %s", res.ProtoVersion, strings.TrimSpace(stdout.String()))
	if res.ProtoVersion != 2 || len(res.Results) != 4 || len(res.Extra) != 0 {
		t.Fatalf("SDK speaks protocol %d, %d results, extra RECVs %s; want 2, 4, none", res.ProtoVersion, len(res.Results), res.Extra)
	}

	// The SDK's view: SENDACKs with seqs 1, 2 in each channel; RECVs with
	// the same ids and seqs and the text decrypted.
	nextSeq := map[string]uint64{}
	for i, r := range res.Results {
		ack, recv := r.Sendack, r.Recv
		nextSeq[r.Kind]++
		if ack.ReasonCode != int(proto.ReasonSuccess) || ack.ClientSeq != r.ClientSeq || ack.MessageSeq != nextSeq[r.Kind] {
			t.Errorf("step %d (%s %s->%s): SENDACK %+v; want reason 1, client_seq %d, message_seq %d",
				i, r.Kind, r.From, r.To, ack, r.ClientSeq, nextSeq[r.Kind])
		}
		wantChannel, wantType := r.From, uint8(1) // a person RECV names the sender
		if r.Kind == "group" {
			wantChannel, wantType = group, 2
		}
		if recv.Text != r.Text || recv.FromUID != r.From || recv.MessageSeq != ack.MessageSeq || recv.MessageID != ack.MessageID ||
			recv.ClientMsgNo != r.ClientMsgNo || recv.ChannelID != wantChannel || recv.ChannelType != wantType {
			t.Errorf("step %d (%s %s->%s): RECV %+v; want text %q from %s in %s/%d at seq %d, id %s, client_msg_no %s",
				i, r.Kind, r.From, r.To, recv, r.Text, r.From, wantChannel, wantType, ack.MessageSeq, ack.MessageID, r.ClientMsgNo)
		}
	}

	// History through the API holds the same messages at the same seqs.
	for _, c := range []struct {
		kind, channel string
		typ           uint8
	}{{"person", "bob", 1}, {"group", group, 2}} {
		hist := reader.history("alice", c.channel, c.typ)
		var want []int
		for i, r := range res.Results {
			if r.Kind == c.kind {
				want = append(want, i)
			}
		}
		if len(hist) != len(want) {
			t.Fatalf("%s history: %d messages, want %d: %+v", c.kind, len(hist), len(want), hist)
		}
		for j, i := range want {
			r, m := res.Results[i], hist[j]
			var content struct {
				Type    int    `json:"type"`
				Content string `json:"content"`
			}
			if err := json.Unmarshal(m.Payload, &content); err != nil {
				t.Fatalf("%s history payload %q: %v", c.kind, m.Payload, err)
			}
			if m.MessageSeq != r.Sendack.MessageSeq || content.Content != r.Text || content.Type != 1 ||
				m.FromUID != r.From || m.ClientMsgNo != r.ClientMsgNo || m.ChannelID != c.channel || m.ChannelType != c.typ {
				t.Errorf("%s history[%d] = %+v (content %+v); want seq %d, text %q from %s, client_msg_no %s, channel %s",
					c.kind, j, m, content, r.Sendack.MessageSeq, r.Text, r.From, r.ClientMsgNo, c.channel)
			}
		}
	}
	return res
}
