package jsonrpc

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/jindou-im/jindou/node/proto"
)

// The requests of WuKongIM's JSON-RPC protocol document
// (pkg/jsonrpc/protocol.md, v2.2.5), as its "minimal examples" show them.
var docExamples = []struct {
	name, msg string
	want      Request
}{
	{"connect", `{"method":"connect","params":{"uid":"testUser","token":"testToken"},"id":"req-conn-1"}`,
		Request{Method: MethodConnect, ID: "req-conn-1", Packet: &proto.Connect{Version: proto.LatestVersion, UID: "testUser", Token: "testToken"}}},
	{"send", `{"method":"send","params":{"clientMsgNo":"uuid-12345","channelId":"targetUser","channelType":1,"payload":{"content":"Hello!","type":1}},"id":"req-send-1"}`,
		Request{Method: MethodSend, ID: "req-send-1", Packet: &proto.Send{ClientMsgNo: "uuid-12345", ChannelID: "targetUser",
			ChannelType: proto.ChannelPerson, Payload: []byte(`{"content":"Hello!","type":1}`)}}},
	{"recvack", `{"method":"recvack","params":{"messageId":"123456789","messageSeq":50}}`,
		Request{Method: MethodRecvAck, Packet: &proto.Recvack{MessageID: 123456789, MessageSeq: 50}}},
	{"subscribe", `{"method":"subscribe","params":{"subNo":"sub-req-1","channelId":"group123","channelType":2},"id":"req-sub-1"}`,
		Request{Method: MethodSubscribe, ID: "req-sub-1", Packet: &proto.Sub{SubNo: "sub-req-1", ChannelID: "group123", ChannelType: proto.ChannelGroup}}},
	{"unsubscribe", `{"method":"unsubscribe","params":{"subNo":"unsub-req-1","channelId":"group123","channelType":2},"id":"req-unsub-1"}`,
		Request{Method: MethodUnsubscribe, ID: "req-unsub-1", Packet: &proto.Sub{SubNo: "unsub-req-1", ChannelID: "group123",
			ChannelType: proto.ChannelGroup, Action: proto.Unsubscribe}}},
	{"ping", `{"method":"ping","id":"req-ping-1"}`, Request{Method: MethodPing, ID: "req-ping-1", Packet: &proto.Ping{}}},
	{"disconnect", `{"method":"disconnect","params":{"reasonCode":0},"id":"req-disc-1"}`,
		Request{Method: MethodDisconnect, ID: "req-disc-1", Packet: &proto.Disconnect{}}},
}

func TestTheProtocolDocumentsRequestsDecodeToPackets(t *testing.T) {
	for _, ex := range docExamples {
		got, err := Decode([]byte(ex.msg))
		if err != nil || !reflect.DeepEqual(got, ex.want) {
			t.Fatalf("%s: decoded %+v (%v)\nwant %+v", ex.name, got, err, ex.want)
		}
	}
}

func TestSendPayloadIsBase64AsWuKongIMsCodecWritesIt(t *testing.T) {
	// WuKongIM's SendParams.Payload is a []byte: encoding/json's base64.
	msg := `{"jsonrpc":"2.0","method":"send","id":"s1","params":{"channelId":"g","channelType":2,"payload":"eyJ0eXBlIjoxfQ==",
		"header":{"redDot":true},"setting":{"receipt":true,"stream":true},"streamNo":"st","expire":60}}`
	got, err := Decode([]byte(msg))
	if err != nil {
		t.Fatal(err)
	}
	want := &proto.Send{Flags: proto.FlagRedDot, Setting: proto.SettingReceipt | proto.SettingStream, StreamNo: "st",
		ChannelID: "g", ChannelType: proto.ChannelGroup, Expire: 60, Payload: []byte(`{"type":1}`)}
	if !reflect.DeepEqual(got.Packet, want) {
		t.Fatalf("decoded %+v, want %+v", got.Packet, want)
	}
}

func TestBadMessagesAreErrorObjectsWithCodes(t *testing.T) {
	for _, tc := range []struct {
		msg  string
		code int
		id   string
		say  string
	}{
		{`{"method":"connect","params":{"uid":"u"},"id":"c1","jsonrpc":"1.0"}`, CodeInvalidRequest, "c1", "version"},
		{`{"method":"connect","params":{"uid":"u"}}`, CodeInvalidRequest, "", "needs an id"},
		{`{"method":"send","id":"s1"}`, CodeInvalidParams, "s1", "needs params"},
		{`{"method":"send","id":"s1","params":{"channelId":"a","channelType":1}}`, CodeInvalidParams, "s1", "payload is required"},
		{`{"method":"send","id":"s1","params":{"channelId":"a","channelType":1,"payload":"!!"}}`, CodeInvalidParams, "s1", "not base64"},
		{`{"method":"send","id":"s1","params":{"channelId":"a","channelType":"one","payload":"eA=="}}`, CodeInvalidParams, "s1", "channelType"},
		{`{"method":"recvack","params":{"messageId":"x1","messageSeq":1}}`, CodeInvalidParams, "", "messageId"},
		{`{"method":"fly","id":"f1"}`, CodeMethodNotFound, "f1", "unknown method"},
		{`{"id":"n1"}`, CodeInvalidRequest, "n1", "no method"},
		{`{"method":"ping","id":7}`, CodeInvalidRequest, "", "id must be"},
		{`{"method":`, CodeParse, "", "jsonrpc:"},
	} {
		got, err := Decode([]byte(tc.msg))
		var e *Error
		if !errors.As(err, &e) || e.Code != tc.code || got.ID != tc.id || !strings.Contains(e.Message, tc.say) {
			t.Fatalf("%s: %+v, %v; want code %d, id %q, a message saying %q", tc.msg, got, err, tc.code, tc.id, tc.say)
		}
	}
}

// jsonEqual compares JSON texts as values.
func jsonEqual(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("%s: %v", want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestServerMessagesHaveWuKongIMsShapes(t *testing.T) {
	for _, tc := range []struct {
		name string
		id   string
		p    proto.Packet
		want string
	}{
		{"connect result", "req-conn-1", &proto.Connack{ServerVersion: 5, TimeDiff: -15, ReasonCode: proto.ReasonSuccess, NodeID: 1},
			`{"jsonrpc":"2.0","id":"req-conn-1","result":{"serverVersion":5,"timeDiff":-15,"reasonCode":1,"nodeId":1}}`},
		{"connect refused", "req-conn-1", &proto.Connack{ReasonCode: proto.ReasonAuthFail},
			`{"jsonrpc":"2.0","id":"req-conn-1","error":{"code":2,"message":"ReasonAuthFail"}}`},
		{"send result", "req-send-1", &proto.Sendack{MessageID: 1001, MessageSeq: 7, ReasonCode: proto.ReasonSuccess},
			`{"jsonrpc":"2.0","id":"req-send-1","result":{"messageId":"1001","messageSeq":7,"reasonCode":1}}`},
		{"pong", "req-ping-1", &proto.Pong{}, `{"jsonrpc":"2.0","id":"req-ping-1"}`},
		{"recv", "", &proto.Recv{MessageID: 2, MessageSeq: 50, Timestamp: 1678886400, ChannelID: "senderUser",
			ChannelType: proto.ChannelPerson, FromUID: "senderUser", Payload: []byte(`{"content":"How are you?","type":1}`)},
			`{"jsonrpc":"2.0","method":"recv","params":{"messageId":"2","messageSeq":50,"timestamp":1678886400,"channelId":"senderUser",
			"channelType":1,"fromUid":"senderUser","payload":"eyJjb250ZW50IjoiSG93IGFyZSB5b3U/IiwidHlwZSI6MX0="}}`},
		{"recv resent, with settings", "", &proto.Recv{Flags: proto.FlagDup | proto.FlagRedDot, Setting: proto.SettingTopic, Topic: "t",
			MessageID: 3, MessageSeq: 1, ClientMsgNo: "c", ChannelID: "g", ChannelType: proto.ChannelGroup, FromUID: "a", Payload: []byte("x")},
			`{"jsonrpc":"2.0","method":"recv","params":{"header":{"redDot":true,"dup":true},"setting":{"topic":true},"messageId":"3",
			"messageSeq":1,"clientMsgNo":"c","timestamp":0,"channelId":"g","channelType":2,"topic":"t","fromUid":"a","payload":"eA=="}}`},
		{"disconnect", "", &proto.Disconnect{ReasonCode: proto.ReasonConnectKick, Reason: "login in other device"},
			`{"jsonrpc":"2.0","method":"disconnect","params":{"reasonCode":12,"reason":"login in other device"}}`},
		{"suback", "req-sub-1", &proto.Suback{SubNo: "sub-req-1", ChannelID: "group123", ChannelType: 2, ReasonCode: proto.ReasonNotSupportChannelType},
			`{"jsonrpc":"2.0","id":"req-sub-1","result":{"subNo":"sub-req-1","channelId":"group123","channelType":2,"action":0,"reasonCode":23}}`},
	} {
		got, err := Encode(tc.id, tc.p)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		jsonEqual(t, got, tc.want)
	}
	jsonEqual(t, EncodeError("x", &Error{Code: CodeMethodNotFound, Message: "m"}), `{"jsonrpc":"2.0","id":"x","error":{"code":-32601,"message":"m"}}`)
}

func TestReaderSplitsObjectsAnywhere(t *testing.T) {
	stream := ` {"method":"ping","id":"a"}{"method":"x","params":{"s":"} {\"q"}}` + "\n" + `{"id":"b","method":"ping"}`
	for cut := 1; cut < len(stream); cut++ {
		r := NewReader(1 << 10)
		var got []string
		for _, chunk := range []string{stream[:cut], stream[cut:]} {
			r.Feed([]byte(chunk))
			for {
				obj, err := r.Next()
				if err != nil {
					t.Fatalf("cut %d: %v", cut, err)
				}
				if obj == nil {
					break
				}
				got = append(got, string(obj))
			}
		}
		want := []string{`{"method":"ping","id":"a"}`, `{"method":"x","params":{"s":"} {\"q"}}`, `{"id":"b","method":"ping"}`}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("cut %d: %q", cut, got)
		}
	}
}

func TestReaderRefusesNonObjectsAndOversizedMessages(t *testing.T) {
	r := NewReader(16)
	r.Feed([]byte(`[1,2]`))
	if _, err := r.Next(); err == nil {
		t.Fatal("an array was taken for a message")
	}
	r = NewReader(16)
	r.Feed([]byte(`{"method":"ping","id":"far too long"`))
	if _, err := r.Next(); err == nil || !strings.Contains(err.Error(), "over 16 bytes") {
		t.Fatalf("oversized: %v", err)
	}
	if !IsObjectStart([]byte(" \n{")) || IsObjectStart([]byte{0x10, '{'}) || IsObjectStart([]byte("  ")) {
		t.Fatal("IsObjectStart")
	}
}
