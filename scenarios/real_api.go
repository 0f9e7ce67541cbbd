package scenarios

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/node/proto"
)

// call sends the core's request as the HTTP route that makes it, and reads
// the answer back into the core's reply type, so that the api command
// prints the same either way.
func (b *realBackend) call(id int, req node.Request) (any, error) {
	p, err := b.proc(id)
	if err != nil {
		return nil, err
	}
	switch r := req.(type) {
	case node.ChannelUpsert:
		return nil, postJSON(p, "/channel", map[string]any{"channel_id": r.Channel.ID, "channel_type": r.Channel.Type,
			"ban": bit(r.Info.Ban), "send_ban": bit(r.Info.SendBan), "disband": bit(r.Info.Disband), "subscribers": r.Subscribers}, nil)
	case node.Subscribers:
		route := "/channel/subscriber_add"
		if r.Remove {
			route = "/channel/subscriber_remove"
		}
		return nil, postJSON(p, route, map[string]any{"channel_id": r.Channel.ID, "channel_type": r.Channel.Type, "subscribers": r.Subscribers}, nil)
	case node.ListUpdate:
		return nil, postJSON(p, "/channel/"+r.List+"_"+r.Op, map[string]any{"channel_id": r.Channel.ID, "channel_type": r.Channel.Type, "uids": r.UIDs}, nil)
	case node.UserToken:
		return nil, postJSON(p, "/user/token", map[string]any{"uid": r.UID, "token": r.Token, "device_flag": r.DeviceFlag, "device_level": r.DeviceLevel}, nil)
	case node.SendMessage:
		return sendRoute(p, r)
	case node.MessageSync:
		return syncRoute(p, r)
	case node.MaxSeq:
		var v struct {
			Seq uint64 `json:"message_seq"`
		}
		q := url.Values{"channel_id": {r.Channel.ID}, "channel_type": {fmt.Sprint(r.Channel.Type)}, "login_uid": {r.LoginUID}}
		return v.Seq, getJSON(p, "/channel/max_message_seq?"+q.Encode(), &v)
	case node.ConversationSync:
		return conversationsRoute(p, r)
	case node.OnlineStatus:
		var v []node.OnlineConn
		return v, postJSON(p, "/user/onlinestatus", r.UIDs, &v)
	}
	return nil, &skippedError{"real", fmt.Sprintf("api: no HTTP route for %T here", req)}
}

func bit(b bool) int {
	if b {
		return 1
	}
	return 0
}

// httpMessage is a message as the HTTP API shows it.
type httpMessage struct {
	Seq         uint64 `json:"message_seq"`
	FromUID     string `json:"from_uid"`
	ClientMsgNo string `json:"client_msg_no"`
	Payload     []byte `json:"payload"` // base64
}

func (m httpMessage) message() *node.Message {
	return &node.Message{Seq: m.Seq, FromUID: m.FromUID, ClientMsgNo: m.ClientMsgNo, Payload: m.Payload}
}

func sendRoute(p *realProc, r node.SendMessage) (any, error) {
	var v struct {
		Data node.SendReply `json:"data"`
	}
	body := map[string]any{"from_uid": r.FromUID, "channel_id": r.Channel.ID, "channel_type": r.Channel.Type,
		"client_msg_no": r.ClientMsgNo, "payload": r.Payload}
	return v.Data, postJSON(p, "/message/send", body, &v)
}

func syncRoute(p *realProc, r node.MessageSync) (any, error) {
	var v struct {
		More     int           `json:"more"`
		Messages []httpMessage `json:"messages"`
	}
	body := map[string]any{"login_uid": r.LoginUID, "channel_id": r.Channel.ID, "channel_type": r.Channel.Type,
		"start_message_seq": r.Start, "end_message_seq": r.End, "limit": r.Limit, "pull_mode": r.PullMode}
	if err := postJSON(p, "/channel/messagesync", body, &v); err != nil {
		return nil, err
	}
	out := node.SyncReply{More: v.More}
	for _, m := range v.Messages {
		out.Messages = append(out.Messages, m.message())
	}
	return out, nil
}

// conversationsRoute: the route names a person conversation by the peer,
// the core's reply by the stored two-uid id; recents come newest first.
func conversationsRoute(p *realProc, r node.ConversationSync) (any, error) {
	var v []struct {
		ChannelID   string            `json:"channel_id"`
		ChannelType proto.ChannelType `json:"channel_type"`
		Unread      uint64            `json:"unread"`
		LastMsgSeq  uint64            `json:"last_msg_seq"`
		ReadTo      uint64            `json:"readed_to_msg_seq"`
		Recents     []httpMessage     `json:"recents"`
	}
	if err := postJSON(p, "/conversation/sync", map[string]any{"uid": r.UID, "msg_count": r.MsgCount}, &v); err != nil {
		return nil, err
	}
	var out []node.Conversation
	for _, c := range v {
		ch := node.ChannelKey{Type: c.ChannelType, ID: c.ChannelID}
		if ch.Type == proto.ChannelPerson {
			ch.ID = node.PersonChannelID(r.UID, c.ChannelID)
		}
		conv := node.Conversation{Channel: ch, Unread: c.Unread, LastMsgSeq: c.LastMsgSeq, ReadToMsgSeq: c.ReadTo}
		for i := len(c.Recents) - 1; i >= 0; i-- {
			conv.Recents = append(conv.Recents, c.Recents[i].message())
		}
		out = append(out, conv)
	}
	return out, nil
}

var httpClient = &http.Client{Timeout: 15 * time.Second}

// postJSON posts body and decodes a 200 answer into out (nil: ignored);
// any other status is an error with the answer's msg.
func postJSON(p *realProc, route string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	resp, err := httpClient.Post(p.http+route, "application/json", bytes.NewReader(b))
	if err != nil {
		return err
	}
	return decodeAnswer(resp, route, out)
}

func getJSON(p *realProc, route string, out any) error {
	resp, err := httpClient.Get(p.http + route)
	if err != nil {
		return err
	}
	return decodeAnswer(resp, strings.SplitN(route, "?", 2)[0], out)
}

func decodeAnswer(resp *http.Response, route string, out any) error {
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Msg string `json:"msg"`
		}
		_ = json.Unmarshal(b, &e)
		return fmt.Errorf("%s: HTTP %d: %s", route, resp.StatusCode, e.Msg)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(b, out)
}
