package proto

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// countingReader yields 0, 1, 2, … forever: a deterministic "random" source.
type countingReader struct{ n byte }

func (r *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = r.n
		r.n++
	}
	return len(p), nil
}

func TestServerAndClientSessionsShareKeyAndTalk(t *testing.T) {
	client, err := NewPrivateKey(&countingReader{n: 100})
	if err != nil {
		t.Fatal(err)
	}
	server, err := NewServerSession(EncodePublicKey(client.PublicKey()), &countingReader{})
	if err != nil {
		t.Fatal(err)
	}
	cs, err := NewClientSession(client, server.ServerKey(), server.Salt())
	if err != nil {
		t.Fatal(err)
	}
	if cs.AESKey() != server.AESKey() {
		t.Fatalf("keys differ: %s %s", cs.AESKey(), server.AESKey())
	}
	send := &Send{ClientSeq: 7, ClientMsgNo: "m1", ChannelID: "g1", ChannelType: ChannelGroup}
	cs.SealSend(send, []byte("你好 🎉"))
	if plain, err := server.OpenSend(nil, send); err != nil || string(plain) != "你好 🎉" {
		t.Fatalf("server opened %q %v", plain, err)
	}
	recv := &Recv{MessageID: 1, MessageSeq: 2, Timestamp: 3, FromUID: "u", ChannelID: "g1", ChannelType: ChannelGroup}
	server.SealRecv(recv, []byte("back"))
	if plain, err := cs.OpenRecv(nil, recv); err != nil || string(plain) != "back" {
		t.Fatalf("client opened %q %v", plain, err)
	}
}

func TestServerSessionIsAFunctionOfItsRandomness(t *testing.T) {
	client, _ := NewPrivateKey(&countingReader{n: 100})
	key := EncodePublicKey(client.PublicKey())
	a, _ := NewServerSession(key, &countingReader{})
	b, _ := NewServerSession(key, &countingReader{})
	c, _ := NewServerSession(key, &countingReader{n: 1})
	if a.ServerKey() != b.ServerKey() || a.Salt() != b.Salt() || a.AESKey() != b.AESKey() {
		t.Fatal("same randomness, different sessions")
	}
	if a.ServerKey() == c.ServerKey() || a.Salt() == c.Salt() {
		t.Fatal("different randomness, same session")
	}
}

func TestBadClientKeysAreErrClientKey(t *testing.T) {
	zero := strings.Repeat("A", 43) + "=" // the all-zero point: a low-order key
	for _, k := range []string{"", "not base64!", "AAAA", zero} {
		if _, err := NewServerSession(k, &countingReader{}); !errors.Is(err, ErrClientKey) {
			t.Errorf("%q: got %v, want ErrClientKey", k, err)
		}
	}
}

func TestSaltIsSixteenAlphanumericsAndUnbiasedByRejection(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		src := rapid.SliceOfN(rapid.Byte(), 64, 64).Draw(t, "src")
		salt, err := NewSalt(bytes.NewReader(src))
		if err != nil {
			return // the source ran dry: too many bytes >= 248
		}
		if len(salt) != SaltLen {
			t.Fatalf("salt %q", salt)
		}
		var want []byte
		for _, b := range src {
			if b < 248 && len(want) < SaltLen {
				want = append(want, saltAlphabet[b%62])
			}
		}
		if salt != string(want) {
			t.Fatalf("salt %q, want %q", salt, want)
		}
	})
}

func TestDecryptOfEncryptIsIdentity(t *testing.T) {
	s, _ := NewSession("0123456789abcdef", "Jd0uVect0rSalt16")
	rapid.Check(t, func(t *rapid.T) {
		plain := rapid.SliceOfN(rapid.Byte(), 0, 100).Draw(t, "plain")
		enc := s.AppendEncrypt(nil, plain)
		got, err := s.AppendDecrypt(nil, enc)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("%x: decrypted %x %v", plain, got, err)
		}
	})
}

func TestMalformedCiphertextsAreErrDecrypt(t *testing.T) {
	s, _ := NewSession("0123456789abcdef", "Jd0uVect0rSalt16")
	// 16 plaintext bytes encrypt to two blocks; the first alone decrypts to
	// "0123456789abcdef", whose last byte is no valid padding.
	twoBlocks, _ := base64.StdEncoding.DecodeString(string(s.AppendEncrypt(nil, []byte("0123456789abcdef"))))
	badPad := base64.StdEncoding.EncodeToString(twoBlocks[:16])
	for _, c := range []string{"", "!!!!", "AAAA", "AAAAAAAAAAAAAAAAAAAA", badPad} {
		if _, err := s.AppendDecrypt(nil, []byte(c)); !errors.Is(err, ErrDecrypt) {
			t.Errorf("%q: got %v, want ErrDecrypt", c, err)
		}
	}
}

func TestTamperedSendFailsVerification(t *testing.T) {
	s, _ := NewSession("0123456789abcdef", "Jd0uVect0rSalt16")
	p := &Send{ClientSeq: 1, ClientMsgNo: "m", ChannelID: "c", ChannelType: 1}
	s.SealSend(p, []byte("hi"))
	for name, mutate := range map[string]func(*Send){
		"client_seq":    func(p *Send) { p.ClientSeq++ },
		"client_msg_no": func(p *Send) { p.ClientMsgNo += "x" },
		"channel_id":    func(p *Send) { p.ChannelID = "d" },
		"channel_type":  func(p *Send) { p.ChannelType = 2 },
		"payload":       func(p *Send) { p.Payload = s.AppendEncrypt(nil, []byte("ho")) },
	} {
		q := *p
		mutate(&q)
		if _, err := s.OpenSend(nil, &q); !errors.Is(err, ErrMsgKey) {
			t.Errorf("%s changed: got %v, want ErrMsgKey", name, err)
		}
	}
	if _, err := s.OpenSend(nil, p); err != nil {
		t.Fatalf("untampered: %v", err)
	}
}

func TestEncryptedLenIsTheLengthOfAppendEncrypt(t *testing.T) {
	s, _ := NewSession("0123456789abcdef", "Jd0uVect0rSalt16")
	for n := 0; n < 70; n++ {
		if got := len(s.AppendEncrypt(nil, make([]byte, n))); got != EncryptedLen(n) {
			t.Fatalf("n=%d: %d, EncryptedLen %d", n, got, EncryptedLen(n))
		}
	}
}
