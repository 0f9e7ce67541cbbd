package proto

import "testing"

func benchSend() *Send {
	return &Send{Flags: FlagRedDot, ClientSeq: 42, ClientMsgNo: "ec815f8c14b8eab536976ba15f42f6173",
		ChannelID: "group-0001", ChannelType: ChannelGroup, MsgKey: "0123456789abcdef0123456789abcdef",
		Payload: make([]byte, 256)}
}

func benchRecv() *Recv {
	return &Recv{Flags: FlagRedDot, MsgKey: "0123456789abcdef0123456789abcdef", FromUID: "user-0001",
		ChannelID: "group-0001", ChannelType: ChannelGroup, ClientMsgNo: "ec815f8c14b8eab536976ba15f42f6173",
		MessageID: 1793726339022458880, MessageSeq: 12345, Timestamp: 1718000000, Payload: make([]byte, 256)}
}

func benchSession(b *testing.B) *Session {
	s, err := NewSession("0123456789abcdef", "Jd0uVect0rSalt16")
	if err != nil {
		b.Fatal(err)
	}
	return s
}

func benchEncode(b *testing.B, p Packet) {
	b.ReportAllocs()
	buf := make([]byte, 0, 4096)
	for b.Loop() {
		var err error
		if buf, err = AppendFrame(buf[:0], p, 5); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkEncodeSend(b *testing.B) { benchEncode(b, benchSend()) }
func BenchmarkEncodeRecv(b *testing.B) { benchEncode(b, benchRecv()) }

// benchDecode decodes wire into one reused packet: the hot path of a
// gateway that keeps a packet value per type.
func benchDecode(b *testing.B, wire []byte, p Packet) {
	b.ReportAllocs()
	b.SetBytes(int64(len(wire)))
	for b.Loop() {
		f, _, err := ParseFrame(wire, DefaultMaxFrameSize)
		if err != nil {
			b.Fatal(err)
		}
		if err := f.DecodeInto(p, 5); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeSend(b *testing.B) {
	wire, _ := AppendFrame(nil, benchSend(), 5)
	benchDecode(b, wire, new(Send))
}

func BenchmarkDecodeRecv(b *testing.B) {
	wire, _ := AppendFrame(nil, benchRecv(), 5)
	benchDecode(b, wire, new(Recv))
}

// BenchmarkDecoderNextSend is the stream decoder's convenience path, which
// allocates the packet.
func BenchmarkDecoderNextSend(b *testing.B) {
	wire, _ := AppendFrame(nil, benchSend(), 5)
	d := NewDecoder(0)
	d.SetVersion(5)
	b.ReportAllocs()
	b.SetBytes(int64(len(wire)))
	for b.Loop() {
		d.Feed(wire)
		if p, err := d.Next(); err != nil || p == nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenSend is what the server does per inbound SEND: decode,
// verify the msg_key, decrypt.
func BenchmarkOpenSend(b *testing.B) {
	s := benchSession(b)
	p := benchSend()
	s.SealSend(p, make([]byte, 256))
	wire, _ := AppendFrame(nil, p, 5)
	var got Send
	plain := make([]byte, 0, 512)
	b.ReportAllocs()
	b.SetBytes(int64(len(wire)))
	for b.Loop() {
		f, _, _ := ParseFrame(wire, DefaultMaxFrameSize)
		if err := f.DecodeInto(&got, 5); err != nil {
			b.Fatal(err)
		}
		var err error
		if plain, err = s.OpenSend(plain[:0], &got); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSealRecv is what the server does per recipient connection:
// encrypt, sign, encode.
func BenchmarkSealRecv(b *testing.B) {
	s := benchSession(b)
	p := benchRecv()
	plain := make([]byte, 256)
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		s.SealRecv(p, plain)
		var err error
		if buf, err = AppendFrame(buf[:0], p, 5); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}
