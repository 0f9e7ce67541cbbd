package proto

import (
	"bytes"
	"crypto/ecdh"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
)

// The vectors in testdata/sdk come from wukongimjssdk 1.0.4's own code
// (tools/sdkvectors). The SDK speaks protocol version 2.
const sdkVersion = 2

func loadSDK[T any](t testing.TB, name string) T {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "sdk", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Vectors T }
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return doc.Vectors
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// u64 parses the SDK's decimal rendering of an integer it read as unsigned.
func u64(t testing.TB, s string) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

type sdkKeyExchange struct {
	ClientPrivate, ClientKey          string
	ServerPrivate, ServerKey          string
	SharedSecretServer, AESKey, AESIV string
	Salt                              string
	Connect                           struct {
		Hex    string
		Fields sdkConnect
	}
	Connack struct {
		Hex    string
		Fields sdkConnack
	}
}

type sdkConnect struct {
	Flags, Version, DeviceFlag      uint8
	DeviceID, UID, Token, ClientKey string
	ClientTimestamp                 string
}

type sdkConnack struct {
	TimeDiff, ServerKey, Salt string
	ReasonCode                uint8
}

func (c sdkConnack) packet(t testing.TB) *Connack {
	return &Connack{TimeDiff: int64(u64(t, c.TimeDiff)), ReasonCode: ReasonCode(c.ReasonCode), ServerKey: c.ServerKey, Salt: c.Salt}
}

func sdkSession(t testing.TB) *Session {
	kx := loadSDK[sdkKeyExchange](t, "keyExchange")
	s, err := NewSession(kx.AESKey, kx.AESIV)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustPrivate(t testing.TB, hexKey string) *ecdh.PrivateKey {
	k, err := ecdh.X25519().NewPrivateKey(unhex(t, hexKey))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSDKKeyExchangeGivesBothSidesTheSDKsAESKey(t *testing.T) {
	kx := loadSDK[sdkKeyExchange](t, "keyExchange")
	server := mustPrivate(t, kx.ServerPrivate)
	if got := EncodePublicKey(server.PublicKey()); got != kx.ServerKey {
		t.Fatalf("server public key %s, SDK %s", got, kx.ServerKey)
	}
	client := mustPrivate(t, kx.ClientPrivate)
	if got := EncodePublicKey(client.PublicKey()); got != kx.ClientKey {
		t.Fatalf("client public key %s, SDK %s", got, kx.ClientKey)
	}
	clientPub, err := DecodePublicKey(kx.ClientKey)
	if err != nil {
		t.Fatal(err)
	}
	shared, err := server.ECDH(clientPub)
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(shared) != kx.SharedSecretServer {
		t.Fatalf("shared secret %x, SDK %s", shared, kx.SharedSecretServer)
	}
	serverKey, err := SharedAESKey(server, clientPub)
	if err != nil || serverKey != kx.AESKey {
		t.Fatalf("server-side aes key %q (%v), SDK %q", serverKey, err, kx.AESKey)
	}
	cs, err := NewClientSession(client, kx.ServerKey, kx.Salt)
	if err != nil || cs.AESKey() != kx.AESKey || cs.Salt() != kx.AESIV {
		t.Fatalf("client session key %q salt %q (%v), SDK %q %q", cs.AESKey(), cs.Salt(), err, kx.AESKey, kx.AESIV)
	}
}

func TestSDKConnectAndConnackMatchBothWays(t *testing.T) {
	kx := loadSDK[sdkKeyExchange](t, "keyExchange")
	f := kx.Connect.Fields
	want := &Connect{
		Flags: Flags(f.Flags), Version: f.Version, DeviceFlag: DeviceFlag(f.DeviceFlag),
		DeviceID: f.DeviceID, UID: f.UID, Token: f.Token,
		ClientTimestamp: int64(u64(t, f.ClientTimestamp)), ClientKey: f.ClientKey,
	}
	checkBothWays(t, "CONNECT", kx.Connect.Hex, want, 0)
	checkBothWays(t, "CONNACK", kx.Connack.Hex, kx.Connack.Fields.packet(t), sdkVersion)
}

// checkBothWays asserts that Go decodes the SDK's bytes to want at version
// v and encodes want to exactly those bytes.
func checkBothWays(t *testing.T, name, wireHex string, want Packet, v uint8) {
	t.Helper()
	wire := unhex(t, wireHex)
	got, err := DecodeFrame(wire, v)
	if err != nil {
		t.Fatalf("%s: decode: %v", name, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: decoded\n %+v\nwant\n %+v", name, got, want)
	}
	enc, err := AppendFrame(nil, want, v)
	if err != nil {
		t.Fatalf("%s: encode: %v", name, err)
	}
	if !bytes.Equal(enc, wire) {
		t.Fatalf("%s: encoded\n %x\nSDK\n %x", name, enc, wire)
	}
}

type sdkSend struct {
	Name, Hex, Plaintext string
	Fields               struct {
		Flags, Setting, ChannelType      uint8
		ClientSeq                        uint32
		ClientMsgNo, StreamNo, ChannelID string
		Topic                            string
	}
}

func (s sdkSend) packet() *Send {
	f := s.Fields
	return &Send{
		Flags: Flags(f.Flags), Setting: Setting(f.Setting), ClientSeq: f.ClientSeq,
		ClientMsgNo: f.ClientMsgNo, StreamNo: f.StreamNo, ChannelID: f.ChannelID,
		ChannelType: ChannelType(f.ChannelType), Topic: f.Topic,
	}
}

func TestSDKSendVerifiesDecryptsAndReencodesExactly(t *testing.T) {
	sess := sdkSession(t)
	for _, v := range loadSDK[[]sdkSend](t, "sends") {
		wire := unhex(t, v.Hex)
		p, err := DecodeFrame(wire, sdkVersion)
		if err != nil {
			t.Fatalf("%s: %v", v.Name, err)
		}
		got := p.(*Send)
		plain, err := sess.OpenSend(nil, got)
		if err != nil {
			t.Fatalf("%s: open: %v", v.Name, err)
		}
		if want := unhex(t, v.Plaintext); !bytes.Equal(plain, want) {
			t.Fatalf("%s: plaintext %q, SDK %q", v.Name, plain, want)
		}
		// Go, acting as the SDK, seals the same plaintext to the same bytes.
		want := v.packet()
		sess.SealSend(want, plain)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: decoded\n %+v\nwant\n %+v", v.Name, got, want)
		}
		enc, err := AppendFrame(nil, want, sdkVersion)
		if err != nil || !bytes.Equal(enc, wire) {
			t.Fatalf("%s: encoded (%v)\n %x\nSDK\n %x", v.Name, err, enc, wire)
		}
	}
}

type sdkRecv struct {
	Name, Hex, Plaintext, DecryptedText, RecvackHex string
	Accepted                                        bool
	Fields                                          struct {
		Flags, Setting, ChannelType, StreamFlag uint8
		MsgKey, FromUID, ChannelID, ClientMsgNo string
		StreamNo, Topic, MessageID, Payload     string
		StreamSeq, MessageSeq, Timestamp        uint32
	}
}

func (r sdkRecv) packet(t testing.TB) *Recv {
	f := r.Fields
	return &Recv{
		Flags: Flags(f.Flags), Setting: Setting(f.Setting), MsgKey: f.MsgKey,
		FromUID: f.FromUID, ChannelID: f.ChannelID, ChannelType: ChannelType(f.ChannelType),
		ClientMsgNo: f.ClientMsgNo, StreamNo: f.StreamNo, StreamSeq: f.StreamSeq,
		StreamFlag: StreamFlag(f.StreamFlag), MessageID: int64(u64(t, f.MessageID)),
		MessageSeq: uint64(f.MessageSeq), Timestamp: int32(f.Timestamp), Topic: f.Topic,
		Payload: unhex(t, f.Payload),
	}
}

func TestSDKRecvDecodesToWhatTheSDKDecoded(t *testing.T) {
	for _, v := range loadSDK[[]sdkRecv](t, "recvs") {
		got, err := DecodeFrame(unhex(t, v.Hex), sdkVersion)
		if err != nil {
			t.Fatalf("%s: %v", v.Name, err)
		}
		if want := v.packet(t); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: decoded\n %+v\nSDK\n %+v", v.Name, got, want)
		}
	}
}

func TestSDKAcceptsExactlyTheRecvsGoSeals(t *testing.T) {
	sess := sdkSession(t)
	for _, v := range loadSDK[[]sdkRecv](t, "recvs") {
		wire := unhex(t, v.Hex)
		p := v.packet(t)
		if ok := sess.VerifyRecv(p); ok != v.Accepted {
			t.Fatalf("%s: Go verifies %v, SDK accepted %v", v.Name, ok, v.Accepted)
		}
		if !v.Accepted {
			continue
		}
		plain, err := sess.OpenRecv(nil, p)
		if err != nil || !bytes.Equal(plain, unhex(t, v.Plaintext)) {
			t.Fatalf("%s: opened %q (%v)", v.Name, plain, err)
		}
		sealed := v.packet(t)
		sess.SealRecv(sealed, plain)
		enc, err := AppendFrame(nil, sealed, sdkVersion)
		if err != nil || !bytes.Equal(enc, wire) {
			t.Fatalf("%s: Go sealed (%v)\n %x\nSDK accepted\n %x", v.Name, err, enc, wire)
		}
	}
}

type sdkFrame struct {
	Kind, Name, Hex string
	Fields          map[string]any
}

func (f sdkFrame) str(k string) string { s, _ := f.Fields[k].(string); return s }
func (f sdkFrame) num(k string) uint64 { n, _ := f.Fields[k].(float64); return uint64(n) }

// packet builds the Go packet the SDK's fields describe.
func (f sdkFrame) packet(t testing.TB) Packet {
	switch f.Kind {
	case "SENDACK":
		return &Sendack{Flags: Flags(f.num("flags")), MessageID: int64(u64(t, f.str("messageID"))),
			ClientSeq: uint32(f.num("clientSeq")), MessageSeq: f.num("messageSeq"), ReasonCode: ReasonCode(f.num("reasonCode"))}
	case "CONNACK":
		return sdkConnack{TimeDiff: f.str("timeDiff"), ReasonCode: uint8(f.num("reasonCode")),
			ServerKey: f.str("serverKey"), Salt: f.str("salt")}.packet(t)
	case "DISCONNECT":
		return &Disconnect{Flags: Flags(f.num("flags")), ReasonCode: ReasonCode(f.num("reasonCode")), Reason: f.str("reason")}
	case "SUBACK":
		return &Suback{Flags: Flags(f.num("flags")), SubNo: f.str("subNo"), ChannelID: f.str("channelID"),
			ChannelType: ChannelType(f.num("channelType")), Action: SubAction(f.num("action")), ReasonCode: ReasonCode(f.num("reasonCode"))}
	case "SUB":
		return &Sub{Flags: Flags(f.num("flags")), Setting: Setting(f.num("setting")), SubNo: f.str("subNo"),
			ChannelID: f.str("channelID"), ChannelType: ChannelType(f.num("channelType")),
			Action: SubAction(f.num("action")), Param: f.str("param")}
	case "RECVACK":
		return &Recvack{Flags: Flags(f.num("flags")), MessageID: int64(u64(t, f.str("messageID"))), MessageSeq: f.num("messageSeq")}
	case "PING":
		return &Ping{}
	case "PONG":
		return &Pong{}
	}
	t.Fatalf("unknown kind %s", f.Kind)
	return nil
}

func TestSDKDecodedFramesMatchBothWays(t *testing.T) {
	for _, f := range loadSDK[[]sdkFrame](t, "decodes") {
		checkBothWays(t, f.Kind+" "+f.Name, f.Hex, f.packet(t), sdkVersion)
	}
}

func TestSDKEncodedFramesMatchBothWays(t *testing.T) {
	for _, f := range loadSDK[[]sdkFrame](t, "encodes") {
		checkBothWays(t, f.Kind+" "+f.Name, f.Hex, f.packet(t), sdkVersion)
	}
}

type sdkFraming struct {
	Name               string
	Chunks             []string
	DecodedMessageSeqs []uint64
}

// The SDK loses or repeats frames when one WebSocket message holds several
// (framing.json records what it decoded); Go's decoder yields each once.
func TestDecoderYieldsEveryFrameWhereTheSDKDropsSome(t *testing.T) {
	for _, v := range loadSDK[[]sdkFraming](t, "framing") {
		d := NewDecoder(0)
		d.SetVersion(sdkVersion)
		var seqs []uint64
		for _, c := range v.Chunks {
			d.Feed(unhex(t, c))
			for {
				p, err := d.Next()
				if err != nil {
					t.Fatalf("%s: %v", v.Name, err)
				}
				if p == nil {
					break
				}
				seqs = append(seqs, p.(*Sendack).MessageSeq)
			}
		}
		if d.Buffered() != 0 {
			t.Fatalf("%s: %d bytes left", v.Name, d.Buffered())
		}
		first := v.DecodedMessageSeqs[0]
		for i, s := range seqs {
			if s != first+uint64(i) {
				t.Fatalf("%s: seqs %v, want consecutive from %d", v.Name, seqs, first)
			}
		}
		if len(seqs) < len(v.DecodedMessageSeqs) {
			t.Fatalf("%s: Go decoded %v, fewer than the SDK's %v", v.Name, seqs, v.DecodedMessageSeqs)
		}
	}
}

type sdkCrypto struct {
	AESKey, AESIV string
	Pairs         []struct {
		PrivateA, PublicA, PrivateB, PublicB, Shared, AESKey string
	}
	Ciphers []struct{ Plaintext, Encrypted, Decrypted string }
}

func TestSDKKeyPairsAgreeOnSharedSecretAndAESKey(t *testing.T) {
	for i, p := range loadSDK[sdkCrypto](t, "crypto").Pairs {
		a, b := mustPrivate(t, p.PrivateA), mustPrivate(t, p.PrivateB)
		if EncodePublicKey(a.PublicKey()) != p.PublicA || EncodePublicKey(b.PublicKey()) != p.PublicB {
			t.Fatalf("pair %d: public keys differ from the SDK's", i)
		}
		pubB, _ := DecodePublicKey(p.PublicB)
		shared, err := a.ECDH(pubB)
		if err != nil || hex.EncodeToString(shared) != p.Shared {
			t.Fatalf("pair %d: shared %x (%v), SDK %s", i, shared, err, p.Shared)
		}
		if k := DeriveAESKey(shared); k != p.AESKey {
			t.Fatalf("pair %d: aes key %s, SDK %s", i, k, p.AESKey)
		}
	}
}

func TestSDKCiphertextsMatchBothWays(t *testing.T) {
	c := loadSDK[sdkCrypto](t, "crypto")
	sess, err := NewSession(c.AESKey, c.AESIV)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range c.Ciphers {
		plain := unhex(t, v.Plaintext)
		if enc := sess.AppendEncrypt(nil, plain); string(enc) != v.Encrypted {
			t.Fatalf("encrypt %q: %s, SDK %s", plain, enc, v.Encrypted)
		}
		dec, err := sess.AppendDecrypt(nil, []byte(v.Encrypted))
		if err != nil || !bytes.Equal(dec, plain) || v.Decrypted != v.Plaintext {
			t.Fatalf("decrypt %s: %q (%v), want %q; SDK decrypted %s", v.Encrypted, dec, err, plain, v.Decrypted)
		}
	}
}
