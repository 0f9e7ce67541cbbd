package proto

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"pgregory.net/rapid"
)

// genPacket draws any packet that is representable at version v: fields the
// version does not carry are left zero, so decode(encode(p)) must equal p.
func genPacket(t *rapid.T, v uint8) Packet {
	str := func(name string) string { return rapid.StringN(0, 40, -1).Draw(t, name) }
	bytesOf := func(name string) []byte { return rapid.SliceOfN(rapid.Byte(), 0, 300).Draw(t, name) }
	flags := func() Flags { return Flags(rapid.Uint8Range(0, 15).Draw(t, "flags")) }
	setting := func() Setting { return Setting(rapid.Uint8().Draw(t, "setting")) }
	seq := func() uint64 {
		if v >= 6 {
			return rapid.Uint64().Draw(t, "seq")
		}
		return uint64(rapid.Uint32().Draw(t, "seq"))
	}
	since := func(min uint8, x uint32) uint32 {
		if v < min {
			return 0
		}
		return x
	}
	switch TypeConnect + PacketType(rapid.IntRange(0, 11).Draw(t, "type")) {
	case TypeConnect:
		return &Connect{Flags: flags(), Version: rapid.Uint8().Draw(t, "version"),
			DeviceFlag: DeviceFlag(rapid.Uint8().Draw(t, "device")), DeviceID: str("dev"),
			UID: str("uid"), Token: str("token"), ClientTimestamp: rapid.Int64().Draw(t, "ts"),
			ClientKey: str("key")}
	case TypeConnack:
		p := &Connack{HasServerVersion: rapid.Bool().Draw(t, "hsv"), TimeDiff: rapid.Int64().Draw(t, "diff"),
			ReasonCode: ReasonCode(rapid.Uint8().Draw(t, "rc")), ServerKey: str("sk"), Salt: str("salt")}
		if p.HasServerVersion {
			p.ServerVersion = rapid.Uint8().Draw(t, "sv")
		}
		if v >= 4 {
			p.NodeID = rapid.Uint64().Draw(t, "node")
		}
		return p
	case TypeSend:
		p := &Send{Flags: flags(), Setting: setting(), ClientSeq: rapid.Uint32().Draw(t, "cs"),
			ClientMsgNo: str("cmn"), ChannelID: str("ch"), ChannelType: ChannelType(rapid.Uint8().Draw(t, "ct")),
			Expire: since(3, rapid.Uint32().Draw(t, "exp")), MsgKey: str("mk"), Payload: bytesOf("payload")}
		if p.Setting.HasStream(v) {
			p.StreamNo = str("stream")
		}
		if p.Setting.HasTopic() {
			p.Topic = str("topic")
		}
		return p
	case TypeSendack:
		return &Sendack{Flags: flags(), MessageID: rapid.Int64().Draw(t, "id"), ClientSeq: rapid.Uint32().Draw(t, "cs"),
			MessageSeq: seq(), ReasonCode: ReasonCode(rapid.Uint8().Draw(t, "rc"))}
	case TypeRecv:
		p := &Recv{Flags: flags(), Setting: setting(), MsgKey: str("mk"), FromUID: str("from"), ChannelID: str("ch"),
			ChannelType: ChannelType(rapid.Uint8().Draw(t, "ct")), Expire: since(3, rapid.Uint32().Draw(t, "exp")),
			ClientMsgNo: str("cmn"), MessageID: rapid.Int64().Draw(t, "id"), MessageSeq: seq(),
			Timestamp: rapid.Int32().Draw(t, "ts"), Payload: bytesOf("payload")}
		if p.Setting.HasStream(v) {
			p.StreamNo = str("stream")
			p.StreamFlag = StreamFlag(rapid.Uint8().Draw(t, "sflag"))
			if p.Setting.GoStreamLayout() {
				p.StreamID = rapid.Uint64().Draw(t, "sid")
			} else {
				p.StreamSeq = rapid.Uint32().Draw(t, "sseq")
			}
		}
		if p.Setting.HasTopic() {
			p.Topic = str("topic")
		}
		return p
	case TypeRecvack:
		return &Recvack{Flags: flags(), MessageID: rapid.Int64().Draw(t, "id"), MessageSeq: seq()}
	case TypePing:
		return &Ping{}
	case TypePong:
		return &Pong{}
	case TypeDisconnect:
		return &Disconnect{Flags: flags(), ReasonCode: ReasonCode(rapid.Uint8().Draw(t, "rc")), Reason: str("reason")}
	case TypeSub:
		return &Sub{Flags: flags(), Setting: setting(), SubNo: str("sub"), ChannelID: str("ch"),
			ChannelType: ChannelType(rapid.Uint8().Draw(t, "ct")), Action: SubAction(rapid.Uint8().Draw(t, "act")), Param: str("param")}
	case TypeSuback:
		return &Suback{Flags: flags(), SubNo: str("sub"), ChannelID: str("ch"), ChannelType: ChannelType(rapid.Uint8().Draw(t, "ct")),
			Action: SubAction(rapid.Uint8().Draw(t, "act")), ReasonCode: ReasonCode(rapid.Uint8().Draw(t, "rc"))}
	default:
		return &Event{Flags: flags(), ID: str("id"), EventType: str("etype"), Timestamp: rapid.Int64().Draw(t, "ts"), Data: bytesOf("data")}
	}
}

// normalize maps empty byte slices to what decoding yields for them.
func normalize(p Packet) Packet {
	switch p := p.(type) {
	case *Send:
		p.Payload = bytes.Clone(p.Payload)
		if p.Payload == nil {
			p.Payload = []byte{}
		}
	case *Recv:
		if p.Payload == nil {
			p.Payload = []byte{}
		}
	case *Event:
		if p.Data == nil {
			p.Data = []byte{}
		}
	}
	return p
}

func genVersion(t *rapid.T) uint8 { return rapid.Uint8Range(MinVersion, LatestVersion).Draw(t, "v") }

func TestDecodeOfEncodeIsIdentityForEveryTypeAndVersion(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		v := genVersion(t)
		p := normalize(genPacket(t, v))
		wire, err := AppendFrame(nil, p, v)
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		got, err := DecodeFrame(wire, v)
		if err != nil {
			t.Fatalf("decode %x: %v", wire, err)
		}
		if !reflect.DeepEqual(normalize(got), p) {
			t.Fatalf("v%d round trip\n got %+v\nwant %+v", v, got, p)
		}
	})
}

func TestAppendFrameLeavesThePrefixAndAppendsOneFrame(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		v := genVersion(t)
		p := genPacket(t, v)
		prefix := rapid.SliceOfN(rapid.Byte(), 0, 20).Draw(t, "prefix")
		alone, err := AppendFrame(nil, p, v)
		if err != nil {
			t.Fatal(err)
		}
		got, err := AppendFrame(bytes.Clone(prefix), p, v)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, append(bytes.Clone(prefix), alone...)) {
			t.Fatalf("prefix %x: got %x, want prefix then %x", prefix, got, alone)
		}
	})
}

// A stream of frames cut into arbitrary chunks decodes to the same packets
// as the frames one by one.
func TestDecodeSplitAcrossReadsYieldsSameFrames(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		v := genVersion(t)
		var stream []byte
		var want []Packet
		for i, n := 0, rapid.IntRange(1, 8).Draw(t, "n"); i < n; i++ {
			p := genPacket(t, v)
			if p.Type() == TypeConnect || p.Type() == TypePing {
				continue
			}
			var err error
			if stream, err = AppendFrame(stream, p, v); err != nil {
				t.Fatal(err)
			}
			want = append(want, normalize(p))
		}
		d := NewDecoder(0)
		d.SetVersion(v)
		var got []Packet
		for rest := stream; len(rest) > 0; {
			n := rapid.IntRange(1, len(rest)).Draw(t, "chunk")
			d.Feed(rest[:n])
			rest = rest[n:]
			for {
				p, err := d.Next()
				if err != nil {
					t.Fatal(err)
				}
				if p == nil {
					break
				}
				got = append(got, clonePacket(normalize(p)))
			}
		}
		if d.Buffered() != 0 || !reflect.DeepEqual(got, want) {
			t.Fatalf("buffered %d\n got %+v\nwant %+v", d.Buffered(), got, want)
		}
	})
}

// clonePacket copies byte fields that alias the decoder's buffer.
func clonePacket(p Packet) Packet {
	switch p := p.(type) {
	case *Send:
		p.Payload = append([]byte{}, p.Payload...)
	case *Recv:
		p.Payload = append([]byte{}, p.Payload...)
	case *Event:
		p.Data = append([]byte{}, p.Data...)
	}
	return p
}

// Every prefix of a valid frame is incomplete, never an error or a packet.
func TestEveryPrefixOfAFrameAsksForMoreInput(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		v := genVersion(t)
		wire, err := AppendFrame(nil, genPacket(t, v), v)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < len(wire); i++ {
			f, n, err := ParseFrame(wire[:i], DefaultMaxFrameSize)
			if err != nil || n != 0 {
				t.Fatalf("prefix %x: frame %+v n %d err %v", wire[:i], f, n, err)
			}
		}
	})
}

// Every byte string either decodes or fails with a *DecodeError, and what
// decodes re-encodes to the same bytes. (FuzzDecode explores this further.)
func TestArbitraryBytesDecodeOrFailWithDecodeError(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		v := genVersion(t)
		b := rapid.SliceOfN(rapid.Byte(), 0, 64).Draw(t, "b")
		checkDecodeTotal(t, b, v)
	})
}

type fataler interface{ Fatalf(string, ...any) }

func checkDecodeTotal(t fataler, b []byte, v uint8) {
	p, err := DecodeFrame(b, v)
	if err != nil {
		var de *DecodeError
		if !errors.As(err, &de) {
			t.Fatalf("%x: error %T %v is not a *DecodeError", b, err, err)
		}
		return
	}
	again, err := AppendFrame(nil, p, v)
	if err != nil {
		t.Fatalf("%x: decoded %+v does not encode: %v", b, p, err)
	}
	p2, err := DecodeFrame(again, v)
	if err != nil || !reflect.DeepEqual(normalize(p2), normalize(p)) {
		t.Fatalf("%x: re-encoded %x decodes to %+v (%v), want %+v", b, again, p2, err, p)
	}
}
