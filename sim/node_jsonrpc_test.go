package sim_test

import (
	"strings"
	"testing"
	"time"

	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/sim/world"
)

// A JSON-RPC client (WuKongIM's Easy SDKs' protocol) and a WKProto
// client in the same person and group channels.

func TestJSONRPCAndBinaryClientsChatInPersonAndGroupChannels(t *testing.T) {
	w := world.New(t, 1310)
	n := w.AddNode(1, node.Config{})
	easy := w.ConnectRPC(w.NewRPCClient("easy", "easy", "web-1", 0))
	bin := w.Connected("bin", "phone")
	bIn := watch(bin)

	// Person: JSON-RPC to binary, acked with the durable seq.
	id := easy.Send("bin", 1, "c-1", []byte(`{"type":1,"content":"hi bin"}`))
	w.Until("send result", func() bool { _, ok := easy.Results[id]; return ok })
	res := easy.Results[id].Result
	if res["reasonCode"] != float64(proto.ReasonSuccess) || res["messageSeq"] != float64(1) || res["messageId"] == "" {
		t.Fatalf("send result %+v", easy.Results[id])
	}
	w.Until("binary receives", func() bool { return len(bIn.recvs) == 1 })
	if r := bIn.recvs[0]; r.FromUID != "easy" || r.ChannelID != "easy" || bIn.plain[0] != `{"type":1,"content":"hi bin"}` {
		t.Fatalf("binary got %+v %q", r, bIn.plain[0])
	}

	// Person: binary to JSON-RPC; the JSON-RPC side gets plaintext and acks.
	bin.Send("easy", proto.ChannelPerson, "c-2", []byte(`{"type":1,"content":"hi easy"}`), 0, nil)
	w.Until("JSON-RPC receives", func() bool { return len(easy.Recvs) == 1 })
	if r := easy.Recvs[0]; r.FromUID != "bin" || r.ChannelID != "bin" || r.ChannelType != 1 || string(r.Payload) != `{"type":1,"content":"hi easy"}` || r.MsgKey != "" {
		t.Fatalf("JSON-RPC got %+v", r)
	}

	// Group: both ways.
	n.MustCall(node.ChannelUpsert{Channel: node.ChannelKey{Type: proto.ChannelGroup, ID: "g"}, Subscribers: []string{"easy", "bin"}})
	gid := easy.Send("g", 2, "c-3", []byte("to the group"))
	w.Until("group delivered to binary", func() bool { return len(bIn.recvs) == 2 })
	if r := bIn.recvs[1]; r.ChannelID != "g" || r.ChannelType != proto.ChannelGroup || bIn.plain[1] != "to the group" {
		t.Fatalf("binary got %+v", r)
	}
	if easy.Results[gid].Result["reasonCode"] != float64(proto.ReasonSuccess) {
		t.Fatalf("group send result %+v", easy.Results[gid])
	}
	bin.Send("g", proto.ChannelGroup, "c-4", []byte("from binary"), 0, nil)
	w.Until("group delivered to JSON-RPC", func() bool { return len(easy.Recvs) == 2 })
	if r := easy.Recvs[1]; r.ChannelID != "g" || r.ChannelType != 2 || string(r.Payload) != "from binary" {
		t.Fatalf("JSON-RPC got %+v", r)
	}
	// Acked recvs are not resent.
	w.RunFor(150 * time.Second) // past two resend intervals (60 s by default)
	if len(easy.Recvs) != 2 {
		t.Fatalf("%d recvs after acking 2", len(easy.Recvs))
	}
	pid := easy.Ping()
	w.Until("pong", func() bool { _, ok := easy.Results[pid]; return ok })
}

func TestUnackedJSONRPCRecvsAreResentWithDup(t *testing.T) {
	w := world.New(t, 1311)
	w.AddNode(1, node.Config{ResendInterval: 5 * time.Second})
	easy := w.NewRPCClient("easy", "easy", "web-1", 0)
	easy.NoAck = true
	w.ConnectRPC(easy)
	w.Connected("bin", "phone").Send("easy", proto.ChannelPerson, "c", []byte("x"), 0, nil)
	w.Until("resent", func() bool { return len(easy.Recvs) == 2 })
	if easy.Recvs[0].Header["dup"] || !easy.Recvs[1].Header["dup"] || easy.Recvs[0].MessageID != easy.Recvs[1].MessageID {
		t.Fatalf("recvs %+v", easy.Recvs)
	}
}

func TestJSONRPCErrorsAreAnsweredWithErrorObjects(t *testing.T) {
	w := world.New(t, 1312)
	w.AddNode(1, node.Config{})

	// Before connect: an error response naming the cause, then the close.
	early := writeBeforeConnect(w, `{"method":"ping","id":"p1"}`)
	if e := early.Results["p1"].Error; e == nil || !strings.Contains(e.Message, "before connect") {
		t.Fatalf("ping before connect: %+v", early.Results["p1"])
	}

	// After connect: the error is answered and the connection stays.
	c := w.ConnectRPC(w.NewRPCClient("c", "c", "d", 0))
	c.Write(`{"method":"fly","id":"f1"}{"method":"send","id":"s1","params":{"channelId":"x","channelType":1}}`)
	w.Until("answers", func() bool { return len(c.Results) == 3 })
	if e := c.Results["f1"].Error; e == nil || e.Code != -32601 {
		t.Fatalf("unknown method: %+v", c.Results["f1"])
	}
	if e := c.Results["s1"].Error; e == nil || e.Code != -32602 || !strings.Contains(e.Message, "payload") {
		t.Fatalf("send without payload: %+v", c.Results["s1"])
	}
	if !c.Open {
		t.Fatal("an error after connect closed the connection")
	}
}

func TestJSONRPCConnectRefusalsCarryTheReasonCode(t *testing.T) {
	w := world.New(t, 1313)
	n := w.AddNode(1, node.Config{TokenAuth: true})
	n.MustCall(node.UserToken{UID: "u", Token: "right", DeviceFlag: 1, DeviceLevel: 1})
	c := w.NewRPCClient("u", "u", "d", 0)
	c.Token = "wrong"
	closed := false
	c.OnClosed = func() { closed = true }
	c.Connect()
	w.Until("refused", func() bool { return closed })
	var refusal *world.RPCMessage
	for _, m := range c.Results {
		refusal = &m
	}
	if refusal == nil || refusal.Error == nil || refusal.Error.Code != int(proto.ReasonAuthFail) || refusal.Error.Message != "ReasonAuthFail" {
		t.Fatalf("refusal %+v", refusal)
	}
	c.Token = "right"
	w.ConnectRPC(c)
}

// writeBeforeConnect opens a JSON-RPC connection that has not connected,
// writes raw to it and waits until the node closes it: the client, with
// what it was answered.
func writeBeforeConnect(w *world.World, raw string) *world.RPCClient {
	early := w.NewRPCClient("early", "early", "d", 0)
	early.Manual = true
	closed := false
	early.OnClosed = func() { closed = true }
	early.Connect()
	w.Until("open", func() bool { return early.Open || closed })
	early.Write(raw)
	w.Until("closed", func() bool { return closed })
	return early
}
