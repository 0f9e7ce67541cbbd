package sim_test

import (
	"testing"

	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/sim/world"
)

// Identifiers that are not valid UTF-8 could not be named over HTTP or
// JSON-RPC (JSON carries only UTF-8): the wire refuses them too.

func TestConnectWithAUIDThatIsNotUTF8IsRefused(t *testing.T) {
	w := world.New(t, 41)
	w.AddNode(1, node.Config{})
	c := w.NewClient(world.ClientSpec{UID: "u\xff", Device: "1", Flag: proto.DeviceApp})
	var got proto.ReasonCode = 255
	closed := false
	c.OnConnack = func(p *proto.Connack) { got = p.ReasonCode }
	c.OnClosed = func(error) { closed = true }
	c.Connect()
	w.Until("refusal", func() bool { return closed })
	if got != proto.ReasonAuthFail {
		t.Fatalf("CONNACK reason %d, want %d (auth fail)", got, proto.ReasonAuthFail)
	}
}

func TestSendToAChannelIDThatIsNotUTF8IsRefused(t *testing.T) {
	w := world.New(t, 42)
	w.AddNode(1, node.Config{})
	a := w.Connected("a", "1")
	in := watch(a)
	a.Send("g\xc3", proto.ChannelGroup, "m1", []byte("x"), 0, nil)
	a.Send("b\xfe", proto.ChannelPerson, "m2", []byte("x"), 0, nil)
	w.Until("acks", func() bool { return len(in.acks) == 2 })
	for i, ack := range in.acks {
		if ack.ReasonCode != proto.ReasonChannelIDError {
			t.Fatalf("SENDACK %d: reason %d, want %d (channel id error)", i, ack.ReasonCode, proto.ReasonChannelIDError)
		}
	}
	if !a.Open {
		t.Fatal("the refused SENDs closed the connection")
	}
}

func TestJSONRPCWithAUIDOrChannelIDThatIsNotUTF8IsRefusedNamingTheParam(t *testing.T) {
	w := world.New(t, 43)
	w.AddNode(1, node.Config{})
	// A connect whose uid would be read as "u\uFFFD", another user: refused, closed.
	early := writeBeforeConnect(w, "{\"method\":\"connect\",\"id\":\"c1\",\"params\":{\"uid\":\"u\xff\",\"token\":\"t\"}}")
	if e := early.Results["c1"].Error; e == nil || e.Message != "jsonrpc: params.uid: not valid UTF-8" {
		t.Fatalf("connect with a uid not UTF-8: %+v", early.Results["c1"])
	}
	// A send to such a channel after connect: refused, the connection stays.
	c := w.ConnectRPC(w.NewRPCClient("c", "c", "d", 0))
	c.Write("{\"method\":\"send\",\"id\":\"s1\",\"params\":{\"channelId\":\"g\xc3\",\"channelType\":2,\"payload\":\"aGk=\"}}")
	w.Until("answer", func() bool { _, ok := c.Results["s1"]; return ok })
	if e := c.Results["s1"].Error; e == nil || e.Message != "jsonrpc: params.channelId: not valid UTF-8" {
		t.Fatalf("send to a channel id not UTF-8: %+v", c.Results["s1"])
	}
	if !c.Open {
		t.Fatal("the refused send closed the connection")
	}
}
