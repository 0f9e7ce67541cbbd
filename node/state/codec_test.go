package state

import (
	"bytes"
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/jindou-im/jindou/node/proto"
	"pgregory.net/rapid"
)

func genChannel(t *rapid.T) ChannelKey {
	return ChannelKey{Type: proto.ChannelType(rapid.Uint8().Draw(t, "type")), ID: rapid.String().Draw(t, "id")}
}

func genInfo(t *rapid.T) ChannelInfo {
	b := rapid.SliceOfN(rapid.Bool(), 6, 6).Draw(t, "info")
	return ChannelInfo{Exists: b[0], Large: b[1], Ban: b[2], Disband: b[3], SendBan: b[4], AllowStranger: b[5]}
}

func genHeader(t *rapid.T) Header {
	b := rapid.SliceOfN(rapid.Bool(), 3, 3).Draw(t, "header")
	return Header{NoPersist: b[0], RedDot: b[1], SyncOnce: b[2]}
}

func genPayload(t *rapid.T, name string) []byte {
	p := rapid.SliceOf(rapid.Byte()).Draw(t, name)
	if len(p) == 0 {
		return nil // decoding gives nil for an empty byte string
	}
	return p
}

func genSend(t *rapid.T) *SendCmd {
	return &SendCmd{ID: rapid.Int64().Draw(t, "mid"), From: rapid.String().Draw(t, "from"), ClientMsgNo: rapid.String().Draw(t, "cmn"),
		Header: genHeader(t), Setting: proto.Setting(rapid.Uint8().Draw(t, "setting")), Expire: rapid.Uint32().Draw(t, "expire"),
		Topic: rapid.String().Draw(t, "topic"), Payload: genPayload(t, "payload"), StreamNo: rapid.String().Draw(t, "stream")}
}

func genCommand(t *rapid.T) *Command {
	c := &Command{Op: rapid.String().Draw(t, "op"), AtMs: rapid.Int64().Draw(t, "at"), Ch: genChannel(t),
		Prop:  Proposal{Node: rapid.Uint64().Draw(t, "node"), Nonce: rapid.Uint64().Draw(t, "nonce"), N: rapid.Uint64().Draw(t, "n")},
		Reset: rapid.Bool().Draw(t, "reset"), Table: rapid.Byte().Draw(t, "table"), ListOp: rapid.String().Draw(t, "lop"),
		UID: rapid.String().Draw(t, "uid"), Flag: rapid.Int().Draw(t, "flag"), Token: rapid.String().Draw(t, "token"),
		Level: rapid.Uint8().Draw(t, "level"), Seq: rapid.Uint64().Draw(t, "seq"), Unread: rapid.Uint64().Draw(t, "unread")}
	if uids := rapid.SliceOf(rapid.String()).Draw(t, "uids"); len(uids) > 0 {
		c.UIDs = uids
	}
	if rapid.Bool().Draw(t, "has info") {
		info := genInfo(t)
		c.Info = &info
	}
	if rapid.Bool().Draw(t, "has send") {
		c.Send = genSend(t)
	}
	return c
}

func TestCommandsRoundTripThroughTheBinaryEncoding(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := genCommand(t)
		got, err := ParseCommand(EncodeCommand(c))
		if err != nil || !reflect.DeepEqual(got, c) {
			t.Fatalf("round trip of %+v: %+v, %v", c, got, err)
		}
	})
}

func TestRecordsRoundTripThroughTheBinaryEncoding(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		m := Message{MessageID: rapid.Int64().Draw(t, "id"), Seq: rapid.Uint64().Draw(t, "seq"), ClientMsgNo: rapid.String().Draw(t, "cmn"),
			FromUID: rapid.String().Draw(t, "from"), Channel: genChannel(t), Timestamp: rapid.Int32().Draw(t, "ts"), Header: genHeader(t),
			Setting: proto.Setting(rapid.Uint8().Draw(t, "set")), Expire: rapid.Uint32().Draw(t, "exp"), Topic: rapid.String().Draw(t, "topic"),
			Payload: genPayload(t, "p"), StreamNo: rapid.String().Draw(t, "stream")}
		rec := ChannelRecord{Info: genInfo(t), LastSeq: rapid.Uint64().Draw(t, "last"), LastTimestamp: rapid.Int32().Draw(t, "lts"),
			WhitelistSize: rapid.IntRange(0, 1<<40).Draw(t, "wl"), Convs: rapid.Bool().Draw(t, "convs")}
		cases := []struct{ in, out any }{
			{&m, &Message{}},
			{&rec, &ChannelRecord{}},
			{&dedupeRecord{Seq: rapid.Uint64().Draw(t, "dseq"), MessageID: rapid.Int64().Draw(t, "did"), AtMs: rapid.Int64().Draw(t, "dat")}, &dedupeRecord{}},
			{&convRecord{ReadSeq: rapid.Uint64().Draw(t, "read"), DeletedSeq: rapid.Uint64().Draw(t, "del")}, &convRecord{}},
			{&tokenRecord{Token: rapid.String().Draw(t, "tok"), Level: rapid.Uint8().Draw(t, "lvl")}, &tokenRecord{}},
			{&slotMeta{LastID: rapid.Int64().Draw(t, "lastid")}, &slotMeta{}},
		}
		for _, c := range cases {
			if err := decodeRecord(encode(c.in.(marshaler)), c.out.(unmarshaler)); err != nil || !reflect.DeepEqual(c.in, c.out) {
				t.Fatalf("round trip of %+v: %+v, %v", c.in, c.out, err)
			}
		}
	})
}

func TestMessagesWrittenWithoutAStreamNoDecodeUnchanged(t *testing.T) {
	// A message record as written before stream_no was kept: format 1,
	// id 7, seq 1, client_msg_no "", from "a", channel 1:"b", timestamp 0,
	// header 0, setting 0x02 (stream), expire 0, topic "", payload "x".
	old := []byte{recordFormat, 14, 1, 0, 1, 'a', 1, 1, 'b', 0, 0, 0x02, 0, 0, 1, 'x'}
	var m Message
	if err := decodeRecord(old, &m); err != nil || m.StreamNo != "" || string(m.Payload) != "x" || m.Setting != proto.SettingStream {
		t.Fatalf("decoded %+v, %v", m, err)
	}
	m.StreamNo = "s"
	if got := encode(&m); !bytes.Equal(got, append(append(slices.Clone(old[:10]), 0x80), append(slices.Clone(old[11:]), 1, 's')...)) {
		t.Fatalf("with a stream_no: %v", got)
	}
}

func TestUnknownFormatsAndTrailingBytesAreRefused(t *testing.T) {
	good := encode(&convRecord{ReadSeq: 3})
	for _, bad := range [][]byte{nil, {}, {2, 3, 0}, append(bytes.Clone(good), 0), good[:len(good)-1]} {
		if err := decodeRecord(bad, &convRecord{}); !errors.Is(err, ErrCorruptRecord) {
			t.Errorf("%x decoded (err %v), want ErrCorruptRecord", bad, err)
		}
	}
}

// FuzzParseCommand: no input makes the decoder panic or allocate beyond its
// size, and whatever decodes encodes back to the same bytes.
func FuzzParseCommand(f *testing.F) {
	f.Add(EncodeCommand(&Command{Op: OpSend, Ch: ChannelKey{Type: 2, ID: "g"}, Send: &SendCmd{From: "a", Payload: []byte("hi")}}))
	f.Add(EncodeCommand(&Command{Op: OpChannel, Info: &ChannelInfo{Exists: true}, UIDs: []string{"a", "b"}}))
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseCommand(data)
		if err != nil {
			return
		}
		again, err := ParseCommand(EncodeCommand(c))
		if err != nil || !reflect.DeepEqual(again, c) {
			t.Fatalf("%x decoded as %+v, which does not round trip: %+v, %v", data, c, again, err)
		}
	})
}

// FuzzDecodeMessage: likewise for stored messages.
func FuzzDecodeMessage(f *testing.F) {
	f.Add(encode(&Message{MessageID: 7, Seq: 1, FromUID: "a", Payload: []byte("x")}))
	f.Fuzz(func(t *testing.T, data []byte) {
		var m Message
		if decodeRecord(data, &m) != nil {
			return
		}
		var again Message
		if err := decodeRecord(encode(&m), &again); err != nil || !reflect.DeepEqual(again, m) {
			t.Fatalf("%x decoded as %+v, which does not round trip: %+v, %v", data, m, again, err)
		}
	})
}
