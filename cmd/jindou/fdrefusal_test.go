package main

import (
	"testing"

	"github.com/jindou-im/jindou/node/proto"
)

func TestARefusalAnswersACompleteCONNECTWithConnackAndDisconnectAtItsVersion(t *testing.T) {
	r := refusal{NodeID: 7, Reason: proto.ReasonSystemError, Text: "server out of file descriptors"}
	for _, cv := range []uint8{2, 4, 6, 9} {
		in, err := proto.AppendFrame(nil, &proto.Connect{Version: cv, UID: "u", Token: "t", ClientKey: "k"}, 0)
		if err != nil {
			t.Fatal(err)
		}
		for cut := 0; cut < len(in); cut++ {
			if ans, done := r.answer(in[:cut]); done || ans != nil {
				t.Fatalf("v%d: %d of %d bytes answered (%v, %q)", cv, cut, len(in), done, ans)
			}
		}
		ans, done := r.answer(in)
		if !done || ans == nil {
			t.Fatalf("v%d: a whole CONNECT is not answered", cv)
		}
		v, _ := proto.NegotiateVersion(cv)
		d := proto.NewDecoder(proto.DefaultMaxFrameSize)
		d.SetVersion(v)
		d.Feed(ans)
		p, err := d.Next()
		ack, ok := p.(*proto.Connack)
		if err != nil || !ok || ack.ReasonCode != proto.ReasonSystemError || (v >= 4 && ack.NodeID != 7) || ack.HasServerVersion != (v > 3) {
			t.Fatalf("v%d: first frame %+v %v, want a CONNACK with reason 15", cv, p, err)
		}
		p, err = d.Next()
		dis, ok := p.(*proto.Disconnect)
		if err != nil || !ok || dis.ReasonCode != proto.ReasonSystemError || dis.Reason != r.Text {
			t.Fatalf("v%d: second frame %+v %v, want the DISCONNECT naming the cause", cv, p, err)
		}
	}
}

func TestARefusalGivesUpOnWhatIsNotACONNECT(t *testing.T) {
	r := refusal{Reason: proto.ReasonSystemError, Text: "x"}
	ping, _ := proto.AppendFrame(nil, &proto.Ping{}, 4)
	send, _ := proto.AppendFrame(nil, &proto.Send{ChannelID: "c", ChannelType: 1, Payload: []byte("p")}, 4)
	huge := append([]byte{byte(proto.TypeConnect) << 4, 0xff, 0xff, 0x03}, make([]byte, 10)...)
	for name, in := range map[string][]byte{"ping": ping, "send": send, "garbage": {0xff, 1, 2}, "too long": huge} {
		if ans, done := r.answer(in); !done || ans != nil {
			t.Fatalf("%s: answered %v %q, want done with nothing", name, done, ans)
		}
	}
}
