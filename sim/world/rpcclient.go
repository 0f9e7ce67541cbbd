package world

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/jindou-im/jindou/runtime"
)

// RPCClient is a simulated client of WuKongIM's JSON-RPC protocol (the
// one its Easy SDKs speak), on an actor loop of its own: it connects,
// sends, acknowledges every recv and answers nothing else. It keeps what
// the server sent for the test to look at.
type RPCClient struct {
	UID, DeviceID, Token string
	// NoAck leaves recvs unacknowledged (the server resends them);
	// Manual sends no connect request when the connection opens.
	NoAck, Manual bool

	loop      runtime.Loop
	dial      func() runtime.Conn
	conn      runtime.Conn
	buf       []byte
	next      int
	connectID string

	Ready, Open bool
	// Results are the responses by request id; Recvs the recv
	// notifications' params; Disconnects the disconnect notifications'.
	Results     map[string]RPCMessage
	Recvs       []RPCRecv
	Disconnects []map[string]any
	OnClosed    func()
	// OnReady follows a successful connect, OnRecv every recv, OnTimer
	// every timer of the client's loop (set with Loop().After).
	OnReady func()
	OnRecv  func(RPCRecv)
	OnTimer func(tag any)
}

// Loop is the client's actor loop.
func (c *RPCClient) Loop() runtime.Loop { return c.loop }

// RPCMessage is a response as the client decoded it.
type RPCMessage struct {
	ID     string         `json:"id"`
	Result map[string]any `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
}

// RPCRecv is a recv notification's params.
type RPCRecv struct {
	Header      map[string]bool `json:"header"`
	MessageID   string          `json:"messageId"`
	MessageSeq  uint32          `json:"messageSeq"`
	ClientMsgNo string          `json:"clientMsgNo"`
	ChannelID   string          `json:"channelId"`
	ChannelType int             `json:"channelType"`
	FromUID     string          `json:"fromUid"`
	Payload     []byte          `json:"payload"`
	MsgKey      string          `json:"msgKey"`
}

// NewRPCClient makes a JSON-RPC client of uid on device, not yet
// connected, dialing node (zero: the lowest id added).
func (w *World) NewRPCClient(name, uid, device string, node runtime.NodeID) *RPCClient {
	c := &RPCClient{UID: uid, DeviceID: device, Results: map[string]RPCMessage{}}
	c.loop = w.Sim.NewActor(name, c)
	c.dial = func() runtime.Conn { return w.Sim.Dial(c.loop, w.dialed(node), "ws") }
	return c
}

// ConnectRPC connects c and runs until its connect succeeded.
func (w *World) ConnectRPC(c *RPCClient) *RPCClient {
	w.t.Helper()
	c.Connect()
	w.Until(c.UID+" connects over JSON-RPC", func() bool { return c.Ready })
	return c
}

// Connect dials; the connect request goes out once the connection opens.
func (c *RPCClient) Connect() {
	c.conn, c.buf, c.Ready, c.Open = c.dial(), nil, false, false
}

// Close closes the connection.
func (c *RPCClient) Close() { c.conn.Close() }

// Write writes a raw message.
func (c *RPCClient) Write(msg string) { c.conn.Write([]byte(msg)) }

func (c *RPCClient) request(method string, params any) string {
	c.next++
	id := method + "-" + strconv.Itoa(c.next)
	b, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": method, "id": id, "params": params})
	if err != nil {
		panic(err)
	}
	c.conn.Write(b)
	return id
}

// Send sends payload to a channel and returns the request id its result
// will carry.
func (c *RPCClient) Send(channelID string, channelType int, clientMsgNo string, payload []byte) string {
	return c.request("send", map[string]any{"channelId": channelID, "channelType": channelType,
		"clientMsgNo": clientMsgNo, "payload": base64.StdEncoding.EncodeToString(payload)})
}

// Ping pings and returns the request id.
func (c *RPCClient) Ping() string { return c.request("ping", nil) }

func (c *RPCClient) Handle(ev runtime.Event) {
	switch e := ev.(type) {
	case runtime.ConnOpened:
		if e.Conn == c.conn {
			c.Open = true
			if c.Manual {
				return
			}
			c.connectID = c.request("connect", map[string]any{"uid": c.UID, "token": c.Token, "deviceId": c.DeviceID, "deviceFlag": 1})
		}
	case runtime.ConnData:
		if e.Conn == c.conn {
			c.buf = append(c.buf, e.Data...)
			c.readAll()
		}
	case runtime.ConnClosed:
		if e.Conn == c.conn {
			c.Ready, c.Open = false, false
			if c.OnClosed != nil {
				c.OnClosed()
			}
		}
	case runtime.TimerFired:
		if c.OnTimer != nil {
			c.OnTimer(e.Tag)
		}
	}
}

// readAll decodes the whole messages buffered (the server writes each as
// one Write; the simulated stream may split or join them).
func (c *RPCClient) readAll() {
	dec := json.NewDecoder(bytes.NewReader(c.buf))
	for {
		var m RPCMessage
		if err := dec.Decode(&m); err != nil {
			c.buf = c.buf[dec.InputOffset():]
			return
		}
		c.on(m)
	}
}

func (c *RPCClient) on(m RPCMessage) {
	switch m.Method {
	case "recv":
		var r RPCRecv
		if err := json.Unmarshal(m.Params, &r); err != nil {
			panic(fmt.Sprintf("world: recv params %s: %v", m.Params, err))
		}
		c.Recvs = append(c.Recvs, r)
		if c.OnRecv != nil {
			c.OnRecv(r)
		}
		if !c.NoAck {
			c.Ack(r)
		}
	case "disconnect":
		var d map[string]any
		_ = json.Unmarshal(m.Params, &d)
		c.Disconnects = append(c.Disconnects, d)
	default:
		c.Results[m.ID] = m
		if m.ID == c.connectID {
			c.Ready = m.Error == nil
			if c.Ready && c.OnReady != nil {
				c.OnReady()
			}
		}
	}
}

// Ack acknowledges r.
func (c *RPCClient) Ack(r RPCRecv) {
	b, err := json.Marshal(map[string]any{"method": "recvack", "params": map[string]any{"messageId": r.MessageID, "messageSeq": r.MessageSeq}})
	if err != nil {
		panic(err)
	}
	c.conn.Write(b)
}
