package jsonrpc

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/jindou-im/jindou/node/proto"
)

// Method names, as WuKongIM's.
const (
	MethodConnect     = "connect"
	MethodSend        = "send"
	MethodRecvAck     = "recvack"
	MethodSubscribe   = "subscribe"
	MethodUnsubscribe = "unsubscribe"
	MethodPing        = "ping"
	MethodPong        = "pong"
	MethodDisconnect  = "disconnect"
	MethodRecv        = "recv"
)

// Version is the jsonrpc member's one accepted value (it may be omitted).
const Version = "2.0"

// Request is one decoded client message: its method, its id ("" for a
// notification) and the packet it stands for.
type Request struct {
	Method string
	ID     string
	Packet proto.Packet
}

// probe is the envelope of every message.
type probe struct {
	Jsonrpc *string         `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params"`
}

// Header is a message's header flags.
type Header struct {
	NoPersist bool `json:"noPersist,omitempty"`
	RedDot    bool `json:"redDot,omitempty"`
	SyncOnce  bool `json:"syncOnce,omitempty"`
	Dup       bool `json:"dup,omitempty"`
	End       bool `json:"end,omitempty"`
}

func (h Header) flags() proto.Flags {
	var f proto.Flags
	for _, b := range []struct {
		on   bool
		flag proto.Flags
	}{{h.NoPersist, proto.FlagNoPersist}, {h.RedDot, proto.FlagRedDot}, {h.SyncOnce, proto.FlagSyncOnce}, {h.Dup, proto.FlagDup}} {
		if b.on {
			f |= b.flag
		}
	}
	return f
}

// SettingFlags is a message's setting byte as booleans.
type SettingFlags struct {
	Receipt bool `json:"receipt,omitempty"`
	Signal  bool `json:"signal,omitempty"`
	Stream  bool `json:"stream,omitempty"`
	Topic   bool `json:"topic,omitempty"`
}

func (s SettingFlags) setting() proto.Setting {
	var v proto.Setting
	for _, b := range []struct {
		on  bool
		bit proto.Setting
	}{{s.Receipt, proto.SettingReceipt}, {s.Signal, proto.SettingSignal}, {s.Stream, proto.SettingStream}, {s.Topic, proto.SettingTopic}} {
		if b.on {
			v |= b.bit
		}
	}
	return v
}

type connectParams struct {
	Header          Header `json:"header"`
	Version         int    `json:"version"`
	ClientKey       string `json:"clientKey"`
	DeviceID        string `json:"deviceId"`
	DeviceFlag      int    `json:"deviceFlag"`
	ClientTimestamp int64  `json:"clientTimestamp"`
	UID             string `json:"uid"`
	Token           string `json:"token"`
}

type sendParams struct {
	Header      Header          `json:"header"`
	Setting     SettingFlags    `json:"setting"`
	MsgKey      string          `json:"msgKey"`
	Expire      uint32          `json:"expire"`
	ClientMsgNo string          `json:"clientMsgNo"`
	StreamNo    string          `json:"streamNo"`
	ChannelID   string          `json:"channelId"`
	ChannelType int             `json:"channelType"`
	Topic       string          `json:"topic"`
	Payload     json.RawMessage `json:"payload"`
}

type recvAckParams struct {
	Header     Header `json:"header"`
	MessageID  string `json:"messageId"`
	MessageSeq uint32 `json:"messageSeq"`
}

type subscribeParams struct {
	SubNo       string `json:"subNo"`
	ChannelID   string `json:"channelId"`
	ChannelType int    `json:"channelType"`
	Param       string `json:"param"`
}

type disconnectParams struct {
	ReasonCode int    `json:"reasonCode"`
	Reason     string `json:"reason"`
}

// Decode decodes one message Reader.Next returned. A message that is not
// a request or notification the server takes is an *Error (with the id,
// when it could be read, so that the answer can name the request).
func Decode(msg []byte) (Request, error) {
	var p probe
	if err := json.Unmarshal(msg, &p); err != nil {
		return Request{}, &Error{Code: CodeParse, Message: "jsonrpc: " + err.Error()}
	}
	req := Request{Method: p.Method}
	if len(p.ID) > 0 && !bytes.Equal(p.ID, []byte("null")) {
		if err := json.Unmarshal(p.ID, &req.ID); err != nil || req.ID == "" {
			return Request{}, &Error{Code: CodeInvalidRequest, Message: "jsonrpc: id must be a non-empty string"}
		}
	}
	if p.Jsonrpc != nil && *p.Jsonrpc != Version {
		return req, &Error{Code: CodeInvalidRequest, Message: fmt.Sprintf("jsonrpc: version %q, want %q", *p.Jsonrpc, Version)}
	}
	if field, bad := InvalidUTF8(msg); bad {
		// encoding/json would read the bytes as U+FFFD: another uid or
		// channel than the client meant.
		return req, &Error{Code: CodeInvalidParams, Message: "jsonrpc: " + field + ": not valid UTF-8"}
	}
	pkt, err := decodeParams(&req, p.Params)
	req.Packet = pkt
	return req, err
}

func decodeParams(req *Request, params json.RawMessage) (proto.Packet, error) {
	needID := func() error {
		if req.ID == "" {
			return &Error{Code: CodeInvalidRequest, Message: "jsonrpc: " + req.Method + " is a request: it needs an id"}
		}
		return nil
	}
	switch req.Method {
	case MethodConnect:
		return withID(needID(), params, req.Method, connectPacket)
	case MethodSend:
		return withID(needID(), params, req.Method, sendPacket)
	case MethodSubscribe:
		return withID(needID(), params, req.Method, subPacket(proto.Subscribe))
	case MethodUnsubscribe:
		return withID(needID(), params, req.Method, subPacket(proto.Unsubscribe))
	case MethodRecvAck:
		return withID(nil, params, req.Method, recvackPacket)
	case MethodDisconnect:
		return withID(nil, params, req.Method, disconnectPacket)
	case MethodPing:
		return &proto.Ping{}, nil
	case "":
		return nil, &Error{Code: CodeInvalidRequest, Message: "jsonrpc: no method"}
	}
	return nil, &Error{Code: CodeMethodNotFound, Message: fmt.Sprintf("jsonrpc: unknown method %q", req.Method)}
}

// withID decodes params with decode unless idErr says the id is missing.
func withID(idErr error, params json.RawMessage, method string, decode func(json.RawMessage) (proto.Packet, error)) (proto.Packet, error) {
	if idErr != nil {
		return nil, idErr
	}
	if len(params) == 0 || bytes.Equal(params, []byte("null")) {
		return nil, &Error{Code: CodeInvalidParams, Message: "jsonrpc: " + method + " needs params"}
	}
	p, err := decode(params)
	if err != nil {
		return nil, &Error{Code: CodeInvalidParams, Message: "jsonrpc: " + method + " params: " + err.Error()}
	}
	return p, nil
}

func connectPacket(raw json.RawMessage) (proto.Packet, error) {
	var p connectParams
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, err
	}
	if p.Version < 0 || p.Version > 255 || p.DeviceFlag < 0 || p.DeviceFlag > 255 {
		return nil, fmt.Errorf("version %d or deviceFlag %d out of range", p.Version, p.DeviceFlag)
	}
	v := uint8(p.Version)
	if v == 0 {
		v = proto.LatestVersion // as WuKongIM: no version means the latest
	}
	return &proto.Connect{Flags: p.Header.flags(), Version: v, DeviceFlag: proto.DeviceFlag(p.DeviceFlag),
		DeviceID: p.DeviceID, UID: p.UID, Token: p.Token, ClientTimestamp: p.ClientTimestamp, ClientKey: p.ClientKey}, nil
}

func sendPacket(raw json.RawMessage) (proto.Packet, error) {
	var p sendParams
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, err
	}
	if p.ChannelType < 0 || p.ChannelType > 255 {
		return nil, fmt.Errorf("channelType %d out of range", p.ChannelType)
	}
	payload, err := decodePayload(p.Payload)
	if err != nil {
		return nil, err
	}
	return &proto.Send{Flags: p.Header.flags(), Setting: p.Setting.setting(), ClientMsgNo: p.ClientMsgNo,
		StreamNo: p.StreamNo, ChannelID: p.ChannelID, ChannelType: proto.ChannelType(p.ChannelType),
		Expire: p.Expire, MsgKey: p.MsgKey, Topic: p.Topic, Payload: payload}, nil
}

// decodePayload reads a payload as WuKongIM writes it, a base64 string of
// the bytes; a JSON object or array (as WuKongIM's protocol document
// shows it) is taken as the payload's bytes themselves.
func decodePayload(raw json.RawMessage) ([]byte, error) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || bytes.Equal(raw, []byte("null")):
		return nil, fmt.Errorf("payload is required")
	case raw[0] == '{' || raw[0] == '[':
		return bytes.Clone(raw), nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("payload must be a base64 string or a JSON object")
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("payload is not base64: %v", err)
	}
	return b, nil
}

func recvackPacket(raw json.RawMessage) (proto.Packet, error) {
	var p recvAckParams
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, err
	}
	id, err := strconv.ParseInt(p.MessageID, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("messageId %q is not a decimal message id", p.MessageID)
	}
	return &proto.Recvack{Flags: p.Header.flags(), MessageID: id, MessageSeq: uint64(p.MessageSeq)}, nil
}

func subPacket(action proto.SubAction) func(json.RawMessage) (proto.Packet, error) {
	return func(raw json.RawMessage) (proto.Packet, error) {
		var p subscribeParams
		if err := json.Unmarshal(raw, &p); err != nil {
			return nil, err
		}
		if p.ChannelType < 0 || p.ChannelType > 255 {
			return nil, fmt.Errorf("channelType %d out of range", p.ChannelType)
		}
		return &proto.Sub{SubNo: p.SubNo, ChannelID: p.ChannelID, ChannelType: proto.ChannelType(p.ChannelType),
			Action: action, Param: p.Param}, nil
	}
}

func disconnectPacket(raw json.RawMessage) (proto.Packet, error) {
	var p disconnectParams
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, err
	}
	return &proto.Disconnect{ReasonCode: proto.ReasonCode(p.ReasonCode), Reason: p.Reason}, nil
}
