package jsonrpc

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/jindou-im/jindou/node/proto"
)

// The server's messages, field for field in WuKongIM's order.

type response struct {
	Jsonrpc string `json:"jsonrpc"`
	ID      string `json:"id,omitempty"`
	Result  any    `json:"result,omitempty"`
	Error   *Error `json:"error,omitempty"`
}

type notification struct {
	Jsonrpc string `json:"jsonrpc"`
	Method  string `json:"method"`
	Params  any    `json:"params"`
}

type connectResult struct {
	Header        *Header `json:"header,omitempty"`
	ServerVersion int     `json:"serverVersion,omitempty"`
	ServerKey     string  `json:"serverKey,omitempty"`
	Salt          string  `json:"salt,omitempty"`
	TimeDiff      int64   `json:"timeDiff,omitempty"`
	ReasonCode    int     `json:"reasonCode"`
	NodeID        uint64  `json:"nodeId"`
}

type sendResult struct {
	Header     *Header `json:"header,omitempty"`
	MessageID  string  `json:"messageId"`
	MessageSeq uint32  `json:"messageSeq"`
	ReasonCode int     `json:"reasonCode"`
}

type subscriptionResult struct {
	Header      *Header `json:"header,omitempty"`
	SubNo       string  `json:"subNo"`
	ChannelID   string  `json:"channelId"`
	ChannelType int     `json:"channelType"`
	Action      int     `json:"action"`
	ReasonCode  int     `json:"reasonCode"`
}

type recvParams struct {
	Header      *Header       `json:"header,omitempty"`
	Setting     *SettingFlags `json:"setting,omitempty"`
	MsgKey      string        `json:"msgKey,omitempty"`
	Expire      uint32        `json:"expire,omitempty"`
	MessageID   string        `json:"messageId"`
	MessageSeq  uint32        `json:"messageSeq"`
	ClientMsgNo string        `json:"clientMsgNo,omitempty"`
	StreamNo    string        `json:"streamNo,omitempty"`
	StreamID    string        `json:"streamId,omitempty"`
	StreamFlag  int           `json:"streamFlag,omitempty"`
	Timestamp   int32         `json:"timestamp"`
	ChannelID   string        `json:"channelId"`
	ChannelType int           `json:"channelType"`
	Topic       string        `json:"topic,omitempty"`
	FromUID     string        `json:"fromUid"`
	Payload     []byte        `json:"payload"` // base64, as encoding/json writes []byte
}

type disconnectNotice struct {
	ReasonCode int    `json:"reasonCode"`
	Reason     string `json:"reason,omitempty"`
}

// Encode is the JSON-RPC message standing for the server's packet p: the
// response to request id (CONNACK, SENDACK, SUBACK, PONG) or a
// notification (RECV, DISCONNECT). A refused CONNACK is an error response
// whose code is the reason code. Payloads are written as they are: the
// caller hands in the plaintext.
func Encode(id string, p proto.Packet) ([]byte, error) {
	var msg any
	switch p := p.(type) {
	case *proto.Connack:
		msg = connackMessage(id, p)
	case *proto.Sendack:
		msg = response{Jsonrpc: Version, ID: id, Result: sendResult{Header: header(p.Flags),
			MessageID: strconv.FormatInt(p.MessageID, 10), MessageSeq: uint32(p.MessageSeq), ReasonCode: int(p.ReasonCode)}}
	case *proto.Suback:
		msg = response{Jsonrpc: Version, ID: id, Result: subscriptionResult{Header: header(p.Flags), SubNo: p.SubNo,
			ChannelID: p.ChannelID, ChannelType: int(p.ChannelType), Action: int(p.Action), ReasonCode: int(p.ReasonCode)}}
	case *proto.Pong:
		msg = response{Jsonrpc: Version, ID: id}
	case *proto.Recv:
		msg = notification{Jsonrpc: Version, Method: MethodRecv, Params: recvNotice(p)}
	case *proto.Disconnect:
		msg = notification{Jsonrpc: Version, Method: MethodDisconnect,
			Params: disconnectNotice{ReasonCode: int(p.ReasonCode), Reason: p.Reason}}
	default:
		return nil, fmt.Errorf("jsonrpc: no message for %s", p.Type())
	}
	return json.Marshal(msg)
}

// EncodeError is the error response to request id ("" when it could not
// be read).
func EncodeError(id string, e *Error) []byte {
	b, err := json.Marshal(response{Jsonrpc: Version, ID: id, Error: e})
	if err != nil {
		panic(err) // two strings and an int always marshal
	}
	return b
}

func connackMessage(id string, p *proto.Connack) response {
	if p.ReasonCode != proto.ReasonSuccess {
		return response{Jsonrpc: Version, ID: id, Error: &Error{Code: int(p.ReasonCode), Message: proto.ReasonName(p.ReasonCode)}}
	}
	return response{Jsonrpc: Version, ID: id, Result: connectResult{ServerVersion: int(p.ServerVersion),
		ServerKey: p.ServerKey, Salt: p.Salt, TimeDiff: p.TimeDiff, ReasonCode: int(p.ReasonCode), NodeID: p.NodeID}}
}

func recvNotice(p *proto.Recv) recvParams {
	r := recvParams{Header: header(p.Flags), MsgKey: p.MsgKey, Expire: p.Expire,
		MessageID: strconv.FormatInt(p.MessageID, 10), MessageSeq: uint32(p.MessageSeq), ClientMsgNo: p.ClientMsgNo,
		StreamNo: p.StreamNo, StreamID: p.StreamNo, StreamFlag: int(p.StreamFlag), Timestamp: p.Timestamp,
		ChannelID: p.ChannelID, ChannelType: int(p.ChannelType), Topic: p.Topic, FromUID: p.FromUID, Payload: p.Payload}
	if p.Setting != 0 {
		r.Setting = &SettingFlags{Receipt: p.Setting&proto.SettingReceipt != 0, Signal: p.Setting&proto.SettingSignal != 0,
			Stream: p.Setting&(proto.SettingStream|proto.SettingStreamSDK) != 0, Topic: p.Setting&proto.SettingTopic != 0}
	}
	return r
}

// header is nil when no flag is set, as WuKongIM leaves it out.
func header(f proto.Flags) *Header {
	h := Header{NoPersist: f&proto.FlagNoPersist != 0, RedDot: f&proto.FlagRedDot != 0,
		SyncOnce: f&proto.FlagSyncOnce != 0, Dup: f&proto.FlagDup != 0}
	if h == (Header{}) {
		return nil
	}
	return &h
}
