package proto

import (
	"bytes"
	"encoding/binary"
	"reflect"
	"testing"
)

// goCodecRecv builds, field by field, the RECV body WuKongIMGoProto's
// encodeRecv writes at version v (2-4) for a stream message: setting,
// msg_key, from_uid, channel_id, channel_type, expire (v >= 3),
// client_msg_no, stream_flag u8, stream_no, stream_id u64, message_id,
// message_seq u32, timestamp, payload.
func goCodecRecv(v uint8) []byte {
	str := func(b []byte, s string) []byte {
		return append(binary.BigEndian.AppendUint16(b, uint16(len(s))), s...)
	}
	b := []byte{byte(SettingStream)}
	b = str(b, "key")
	b = str(b, "u1")
	b = str(b, "u2")
	b = append(b, byte(ChannelPerson))
	if v >= 3 {
		b = binary.BigEndian.AppendUint32(b, 0)
	}
	b = str(b, "cmn")
	b = append(b, byte(StreamIng))
	b = str(b, "stream-1")
	b = binary.BigEndian.AppendUint64(b, 4242)
	b = binary.BigEndian.AppendUint64(b, 77)
	b = binary.BigEndian.AppendUint32(b, 5)
	b = binary.BigEndian.AppendUint32(b, 1700000000)
	b = append(b, "payload"...)
	return append([]byte{byte(TypeRecv) << 4, byte(len(b))}, b...)
}

func TestRecvStreamFieldsUseWuKongIMsLayoutOnVersions2To4(t *testing.T) {
	for v := uint8(2); v <= 4; v++ {
		want := &Recv{
			Setting: SettingStream, MsgKey: "key", FromUID: "u1", ChannelID: "u2", ChannelType: ChannelPerson,
			ClientMsgNo: "cmn", StreamFlag: StreamIng, StreamNo: "stream-1", StreamID: 4242,
			MessageID: 77, MessageSeq: 5, Timestamp: 1700000000, Payload: []byte("payload"),
		}
		wire := goCodecRecv(v)
		got, err := AppendFrame(nil, want, v)
		if err != nil || !bytes.Equal(got, wire) {
			t.Fatalf("v%d: encoded (%v)\n %x\nWuKongIM's codec writes\n %x", v, err, got, wire)
		}
		back, err := DecodeFrame(wire, v)
		if err != nil || !reflect.DeepEqual(back, want) {
			t.Fatalf("v%d: decoded (%v) %+v, want %+v", v, err, back, want)
		}
	}
}

func TestRecvWithTheSDKStreamBitKeepsTheSDKLayout(t *testing.T) {
	p := &Recv{Setting: SettingStreamSDK, MsgKey: "k", FromUID: "a", ChannelID: "b", ChannelType: ChannelPerson,
		StreamNo: "s", StreamSeq: 3, StreamFlag: StreamEnd, MessageID: 1, MessageSeq: 1, Timestamp: 1}
	wire, err := AppendFrame(nil, p, 2)
	if err != nil {
		t.Fatal(err)
	}
	// setting, msg_key, from_uid, channel_id, channel_type, client_msg_no,
	// then stream_no "s", stream_seq 3, stream_flag 2.
	at := 2 + 1 + 3 + 3 + 3 + 1 + 2
	if got := wire[at : at+2+1+4+1]; !bytes.Equal(got, []byte{0, 1, 's', 0, 0, 0, 3, 2}) {
		t.Fatalf("stream fields %x, want the SDK's stream_no, stream_seq, stream_flag", got)
	}
}

func TestRecvHasNoStreamFieldsFromVersion5(t *testing.T) {
	with := &Recv{Setting: SettingStream, StreamNo: "s", StreamID: 9, MessageID: 1, MessageSeq: 1}
	without := &Recv{MessageID: 1, MessageSeq: 1}
	for _, v := range []uint8{5, 6} {
		a, err1 := AppendFrame(nil, with, v)
		b, err2 := AppendFrame(nil, without, v)
		if err1 != nil || err2 != nil || len(a) != len(b) {
			t.Fatalf("v%d: a stream RECV is %d bytes, a plain one %d (%v %v)", v, len(a), len(b), err1, err2)
		}
	}
}
