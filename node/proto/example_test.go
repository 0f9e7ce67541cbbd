package proto_test

import (
	"fmt"

	"github.com/jindou-im/jindou/node/proto"
)

// zeroes is a stand-in for the caller's random source.
type zeroes struct{ b byte }

func (z *zeroes) Read(p []byte) (int, error) {
	for i := range p {
		z.b++
		p[i] = z.b
	}
	return len(p), nil
}

// The server side of one connection: CONNECT in, CONNACK out, then an
// encrypted SEND verified and answered, and a RECV sealed for the client.
func Example() {
	// A client (here, Go playing the SDK) connects.
	clientPriv, _ := proto.NewPrivateKey(&zeroes{b: 100})
	wire, _ := proto.AppendFrame(nil, &proto.Connect{Version: 5, DeviceFlag: proto.DeviceWeb,
		UID: "u1", ClientKey: proto.EncodePublicKey(clientPriv.PublicKey())}, 0)

	// The server's connection loop.
	dec := proto.NewDecoder(0)
	dec.Feed(wire)
	p, _ := dec.Next()
	connect := p.(*proto.Connect)
	v, _ := proto.NegotiateVersion(connect.Version)
	dec.SetVersion(v)
	sess, _ := proto.NewServerSession(connect.ClientKey, &zeroes{})
	out, _ := proto.AppendFrame(nil, &proto.Connack{HasServerVersion: connect.Version > 3,
		ServerVersion: v, ReasonCode: proto.ReasonSuccess,
		ServerKey: sess.ServerKey(), Salt: sess.Salt()}, v)
	fmt.Printf("CONNACK %d bytes at v%d\n", len(out), v)

	// The client derives the same session and sends.
	client, _ := proto.NewClientSession(clientPriv, sess.ServerKey(), sess.Salt())
	send := &proto.Send{ClientSeq: 1, ClientMsgNo: "m1", ChannelID: "u2", ChannelType: proto.ChannelPerson}
	client.SealSend(send, []byte(`{"type":1,"content":"你好"}`))
	wire, _ = proto.AppendFrame(nil, send, v)

	dec.Feed(wire)
	p, _ = dec.Next()
	plain, err := sess.OpenSend(nil, p.(*proto.Send))
	reason := proto.ReasonSuccess
	if err != nil {
		reason = proto.ReasonPayloadDecodeError
	}
	fmt.Printf("SEND %s, reason %d\n", plain, reason)

	// A RECV for a recipient is sealed with the recipient's own session.
	recv := &proto.Recv{FromUID: "u1", ChannelID: "u1", ChannelType: proto.ChannelPerson,
		ClientMsgNo: "m1", MessageID: 99, MessageSeq: 1, Timestamp: 1718000000}
	sess.SealRecv(recv, plain)
	wire, _ = proto.AppendFrame(nil, recv, v)
	got, _ := proto.DecodeFrame(wire, v)
	opened, err := client.OpenRecv(nil, got.(*proto.Recv))
	fmt.Printf("RECV %s %v\n", opened, err)
	// Output:
	// CONNACK 84 bytes at v5
	// SEND {"type":1,"content":"你好"}, reason 1
	// RECV {"type":1,"content":"你好"} <nil>
}
