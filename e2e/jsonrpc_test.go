package e2e

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/wkclient"
)

// rpcClient speaks WuKongIM's JSON-RPC protocol over WebSocket text
// messages, as its Easy SDKs do.
type rpcClient struct {
	t    *testing.T
	conn *websocket.Conn
	n    int
}

// rpcMsg is any server message.
type rpcMsg struct {
	ID     string          `json:"id"`
	Method string          `json:"method"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
	Params json.RawMessage `json:"params"`
}

type rpcRecv struct {
	MessageID   string `json:"messageId"`
	MessageSeq  uint32 `json:"messageSeq"`
	ChannelID   string `json:"channelId"`
	ChannelType int    `json:"channelType"`
	FromUID     string `json:"fromUid"`
	Payload     []byte `json:"payload"`
}

func dialRPC(t *testing.T, p *proc, uid string) *rpcClient {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial(p.WS, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &rpcClient{t: t, conn: conn}
	id := c.request("connect", map[string]any{"uid": uid, "token": "", "deviceId": uid + "-web", "deviceFlag": 1})
	m := c.next()
	if m.ID != id || m.Error != nil || !strings.Contains(string(m.Result), `"reasonCode":1`) {
		t.Fatalf("connect answer %+v %s", m, m.Result)
	}
	return c
}

func (c *rpcClient) request(method string, params any) string {
	c.t.Helper()
	c.n++
	id := method + "-" + strconv.Itoa(c.n)
	c.write(map[string]any{"jsonrpc": "2.0", "method": method, "id": id, "params": params})
	return id
}

func (c *rpcClient) write(msg any) {
	c.t.Helper()
	if err := c.conn.WriteJSON(msg); err != nil {
		c.t.Fatal(err)
	}
}

// next reads one message, which must be a text message.
func (c *rpcClient) next() rpcMsg {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	typ, b, err := c.conn.ReadMessage()
	if err != nil {
		c.t.Fatal(err)
	}
	if typ != websocket.TextMessage {
		c.t.Fatalf("a %d message %q; JSON-RPC is answered in text", typ, b)
	}
	var m rpcMsg
	if err := json.Unmarshal(b, &m); err != nil {
		c.t.Fatalf("%s: %v", b, err)
	}
	return m
}

// send sends text and expects its result with seq.
func (c *rpcClient) send(channelID string, channelType int, text string, seq uint32) {
	c.t.Helper()
	id := c.request("send", map[string]any{"channelId": channelID, "channelType": channelType,
		"payload": base64.StdEncoding.EncodeToString([]byte(text))})
	m := c.next()
	var res struct {
		MessageID  string `json:"messageId"`
		MessageSeq uint32 `json:"messageSeq"`
		ReasonCode int    `json:"reasonCode"`
	}
	if err := json.Unmarshal(m.Result, &res); err != nil || m.ID != id || res.ReasonCode != 1 || res.MessageSeq != seq || res.MessageID == "" {
		c.t.Fatalf("send result %+v %s (%v); want reason 1 at seq %d", m, m.Result, err, seq)
	}
}

// recv expects a recv notification and acknowledges it.
func (c *rpcClient) recv() rpcRecv {
	c.t.Helper()
	m := c.next()
	var r rpcRecv
	if err := json.Unmarshal(m.Params, &r); err != nil || m.Method != "recv" {
		c.t.Fatalf("got %+v (%v), want a recv", m, err)
	}
	c.write(map[string]any{"method": "recvack", "params": map[string]any{"messageId": r.MessageID, "messageSeq": r.MessageSeq}})
	return r
}

// TestJSONRPCAndBinaryClientsChatWithAcks: an Easy-SDK-style JSON-RPC
// client and a WKProto client chat in a person and a group channel.
func TestJSONRPCAndBinaryClientsChatWithAcks(t *testing.T) {
	p := startNode(t, nodeOpts{})
	easy := dialRPC(t, p, "easy")
	bin, err := wkclient.DialWS(p.WS, wkclient.Options{UID: "bin", DeviceFlag: proto.DeviceWeb})
	if err != nil {
		t.Fatal(err)
	}
	defer bin.Close()
	binRecv := func(what, from, ch, text string) {
		t.Helper()
		r := next[*proto.Recv](t, bin, what)
		plain, err := bin.Open(r)
		if err != nil || string(plain) != text || r.FromUID != from || r.ChannelID != ch {
			t.Fatalf("%s: %+v %q %v", what, r, plain, err)
		}
		if err := bin.Ack(r); err != nil {
			t.Fatal(err)
		}
	}

	easy.send("bin", 1, `{"type":1,"content":"hi bin"}`, 1)
	binRecv("person from JSON-RPC", "easy", "easy", `{"type":1,"content":"hi bin"}`)

	if _, err := bin.Send("easy", proto.ChannelPerson, "", []byte("hi easy")); err != nil {
		t.Fatal(err)
	}
	if ack := next[*proto.Sendack](t, bin, "SENDACK"); ack.ReasonCode != proto.ReasonSuccess || ack.MessageSeq != 2 {
		t.Fatalf("SENDACK %+v", ack)
	}
	if r := easy.recv(); r.FromUID != "bin" || r.ChannelID != "bin" || r.ChannelType != 1 || string(r.Payload) != "hi easy" {
		t.Fatalf("JSON-RPC recv %+v", r)
	}

	p.mustPost("/channel", map[string]any{"channel_id": "g", "channel_type": 2, "subscribers": []string{"easy", "bin"}}, nil)
	easy.send("g", 2, "to the group", 1)
	binRecv("group from JSON-RPC", "easy", "g", "to the group")
	if _, err := bin.Send("g", proto.ChannelGroup, "", []byte("group back")); err != nil {
		t.Fatal(err)
	}
	next[*proto.Sendack](t, bin, "group SENDACK")
	if r := easy.recv(); r.ChannelID != "g" || r.ChannelType != 2 || string(r.Payload) != "group back" {
		t.Fatalf("JSON-RPC group recv %+v", r)
	}

	pid := easy.request("ping", nil)
	if m := easy.next(); m.ID != pid || m.Error != nil {
		t.Fatalf("pong %+v", m)
	}
}
