package proto

import (
	"encoding/binary"
	"errors"
	"testing"
)

// seedFrames adds every SDK vector frame to a fuzz corpus.
func seedFrames(f *testing.F, add func(wire []byte)) {
	kx := loadSDK[sdkKeyExchange](f, "keyExchange")
	add(unhex(f, kx.Connect.Hex))
	add(unhex(f, kx.Connack.Hex))
	for _, v := range loadSDK[[]sdkSend](f, "sends") {
		add(unhex(f, v.Hex))
	}
	for _, v := range loadSDK[[]sdkRecv](f, "recvs") {
		add(unhex(f, v.Hex))
	}
	for _, name := range []string{"decodes", "encodes"} {
		for _, v := range loadSDK[[]sdkFrame](f, name) {
			add(unhex(f, v.Hex))
		}
	}
}

// FuzzDecode feeds arbitrary bytes, cut into chunks, to the stream decoder
// at every version. It must never panic, must fail only with a
// *DecodeError, and every packet it yields must re-encode and decode back.
func FuzzDecode(f *testing.F) {
	seedFrames(f, func(wire []byte) { f.Add(wire, uint8(2), uint16(7)) })
	f.Fuzz(func(t *testing.T, stream []byte, v uint8, cut uint16) {
		v = MinVersion + v%(LatestVersion-MinVersion+1)
		d := NewDecoder(4096)
		d.SetVersion(v)
		step := 1 + int(cut)%64
		for len(stream) > 0 {
			n := min(step, len(stream))
			d.Feed(stream[:n])
			stream = stream[n:]
			for {
				p, err := d.Next()
				if err != nil {
					var de *DecodeError
					if !errors.As(err, &de) {
						t.Fatalf("error %T %v", err, err)
					}
					return
				}
				if p == nil {
					break
				}
				wire, err := AppendFrame(nil, p, v)
				if err != nil {
					t.Fatalf("decoded %+v does not encode: %v", p, err)
				}
				checkDecodeTotal(t, wire, v)
			}
		}
	})
}

// FuzzDecrypt feeds arbitrary payloads and msg_keys to a session: it must
// never panic, and whatever opens must survive another encrypt and decrypt.
func FuzzDecrypt(f *testing.F) {
	for _, v := range loadSDK[[]sdkSend](f, "sends") {
		p, err := DecodeFrame(unhex(f, v.Hex), sdkVersion)
		if err != nil {
			f.Fatal(err)
		}
		s := p.(*Send)
		f.Add(s.Payload, s.MsgKey, s.ClientSeq)
	}
	sess := sdkSession(f)
	f.Fuzz(func(t *testing.T, payload []byte, msgKey string, seq uint32) {
		p := &Send{ClientSeq: seq, ClientMsgNo: "m", ChannelID: "c", ChannelType: 1, MsgKey: msgKey, Payload: payload}
		plain, err := sess.AppendDecrypt(nil, payload)
		if err != nil {
			if !errors.Is(err, ErrDecrypt) {
				t.Fatalf("error %v", err)
			}
			return
		}
		// Decoding is lenient about base64 (line breaks, trailing bits), so
		// check the plaintext, not the payload, survives a second trip.
		again, err := sess.AppendDecrypt(nil, sess.AppendEncrypt(nil, plain))
		if err != nil || string(again) != string(plain) {
			t.Fatalf("%q decrypts to %x, which does not round-trip: %x %v", payload, plain, again, err)
		}
		if _, err := sess.OpenSend(nil, p); err != nil && !errors.Is(err, ErrMsgKey) {
			t.Fatalf("open: %v", err)
		}
	})
}

// FuzzParseFrameLength checks the length prefix alone: any header and
// length bytes either ask for more input, fail with a *DecodeError, or
// frame exactly the declared body.
func FuzzParseFrameLength(f *testing.F) {
	f.Add(uint8(0x30), uint32(0xffffff7f))
	f.Fuzz(func(t *testing.T, header uint8, length uint32) {
		var b [5]byte
		b[0] = header
		binary.LittleEndian.PutUint32(b[1:], length)
		fr, n, err := ParseFrame(b[:], DefaultMaxFrameSize)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %T", err)
			}
			return
		}
		if n > len(b) || (n > 0 && len(fr.Body) > n) {
			t.Fatalf("n %d body %d", n, len(fr.Body))
		}
	})
}
