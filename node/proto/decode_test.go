package proto

import (
	"errors"
	"testing"
)

func kindOf(err error) ErrorKind {
	var de *DecodeError
	if errors.As(err, &de) {
		return de.Kind
	}
	return 0
}

func TestMalformedFramesFailWithTheirKind(t *testing.T) {
	sendBody := []byte{0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0} // v2 SEND, empty strings
	cases := []struct {
		name string
		wire []byte
		v    uint8
		kind ErrorKind
	}{
		{"type 0", []byte{0x00, 0x00}, 2, KindUnknownType},
		{"type 13", []byte{0xd0, 0x00}, 2, KindUnknownType},
		{"type 15", []byte{0xff}, 2, KindUnknownType},
		{"ping with flags", []byte{0x71}, 2, KindBadHeader},
		{"pong with flags", []byte{0x88}, 2, KindBadHeader},
		{"five length bytes", []byte{0x30, 0x80, 0x80, 0x80, 0x80, 0x01}, 2, KindBadLength},
		{"truncated length", []byte{0x30, 0x80}, 2, KindTruncated},
		{"truncated body", []byte{0x90, 0x05, 0x01}, 2, KindTruncated},
		{"string past body", []byte{0x90, 0x03, 0x01, 0x00, 0x05}, 2, KindTruncated},
		{"string over 32767", []byte{0x90, 0x03, 0x01, 0x80, 0x00}, 2, KindStringTooLong},
		{"trailing byte in disconnect", []byte{0x90, 0x04, 0x01, 0x00, 0x00, 0xee}, 2, KindTrailingBytes},
		{"trailing byte after frame", []byte{0x70, 0x70}, 2, KindTrailingBytes},
		{"send before version", append([]byte{0x30, byte(len(sendBody))}, sendBody...), 0, KindBadVersion},
		{"send at version 7", append([]byte{0x30, byte(len(sendBody))}, sendBody...), 7, KindBadVersion},
		{"v3 send missing expire", append([]byte{0x30, byte(len(sendBody))}, sendBody...), 3, KindTruncated},
		{"v6 sendack with u32 seq", []byte{0x40, 0x11, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 1}, 6, KindTruncated},
	}
	for _, c := range cases {
		_, err := DecodeFrame(c.wire, c.v)
		if kindOf(err) != c.kind {
			t.Errorf("%s: got %v, want kind %v", c.name, err, c.kind)
		}
	}
}

func TestValidFramesOfTheMalformedCasesDecode(t *testing.T) {
	sendBody := []byte{0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0}
	if _, err := DecodeFrame(append([]byte{0x30, byte(len(sendBody))}, sendBody...), 2); err != nil {
		t.Fatalf("v2 SEND: %v", err)
	}
	if _, err := DecodeFrame([]byte{0x90, 0x03, 0x01, 0x00, 0x00}, 2); err != nil {
		t.Fatalf("DISCONNECT: %v", err)
	}
}

func TestOversizedFrameFailsBeforeItsBodyArrives(t *testing.T) {
	d := NewDecoder(100)
	d.SetVersion(2)
	d.Feed([]byte{0x30, 0xe5, 0x00}) // declares 101 bytes, sends none
	p, err := d.Next()
	if p != nil || kindOf(err) != KindFrameTooLarge {
		t.Fatalf("got %v %v, want KindFrameTooLarge", p, err)
	}
	if _, err2 := d.Next(); err2 != err {
		t.Fatalf("error is not sticky: %v", err2)
	}
}

func TestFrameAtTheMaximumSizeDecodes(t *testing.T) {
	p := &Send{Payload: make([]byte, 100-12)} // 12 bytes of v2 fields
	wire, err := AppendFrame(nil, p, 2)
	if err != nil {
		t.Fatal(err)
	}
	d := NewDecoder(100)
	d.SetVersion(2)
	d.Feed(wire)
	if got, err := d.Next(); err != nil || len(got.(*Send).Payload) != 88 {
		t.Fatalf("got %v %v", got, err)
	}
}

func TestDeclaredLengthDoesNotAllocateAhead(t *testing.T) {
	d := NewDecoder(0)
	d.SetVersion(2)
	d.Feed([]byte{0x30, 0xff, 0xff, 0x3f}) // declares 1 MiB - 1
	if p, err := d.Next(); p != nil || err != nil {
		t.Fatalf("got %v %v, want a request for more input", p, err)
	}
	if c := cap(d.buf); c > 64 {
		t.Fatalf("buffer grew to %d bytes on a declared length alone", c)
	}
}

func TestDecoderDecodesOnlyConnectAndPingBeforeSetVersion(t *testing.T) {
	connect, _ := AppendFrame(nil, &Connect{Version: 5, UID: "u1"}, 0)
	ack, _ := AppendFrame(nil, &Recvack{MessageID: 9, MessageSeq: 3}, 5)
	d := NewDecoder(0)
	d.Feed(append(append(connect, 0x70), ack...))
	if p, err := d.Next(); err != nil || p.(*Connect).UID != "u1" {
		t.Fatalf("connect: %v %v", p, err)
	}
	if p, err := d.Next(); err != nil || p.Type() != TypePing {
		t.Fatalf("ping: %v %v", p, err)
	}
	v, ok := NegotiateVersion(5)
	if !ok || v != 5 {
		t.Fatalf("negotiated %d %v", v, ok)
	}
	d.SetVersion(v)
	if p, err := d.Next(); err != nil || p.(*Recvack).MessageSeq != 3 {
		t.Fatalf("recvack: %v %v", p, err)
	}
}

func TestNegotiateVersionTakesTheLowerAndRefusesOld(t *testing.T) {
	for client, want := range map[uint8]uint8{2: 2, 3: 3, 5: 5, 6: 6, 7: 6, 255: 6} {
		if v, ok := NegotiateVersion(client); !ok || v != want {
			t.Errorf("client %d: got %d %v, want %d", client, v, ok, want)
		}
	}
	if _, ok := NegotiateVersion(1); ok {
		t.Error("version 1 accepted")
	}
}

func TestPayloadsStayValidUntilTheNextFeed(t *testing.T) {
	a, _ := AppendFrame(nil, &Send{Payload: []byte("first")}, 2)
	b, _ := AppendFrame(nil, &Send{Payload: []byte("second")}, 2)
	d := NewDecoder(0)
	d.SetVersion(2)
	d.Feed(append(a, b...))
	p1, _ := d.Next()
	p2, _ := d.Next()
	if string(p1.(*Send).Payload) != "first" || string(p2.(*Send).Payload) != "second" {
		t.Fatalf("payloads %q %q", p1.(*Send).Payload, p2.(*Send).Payload)
	}
}

func TestEncodeRefusesWhatTheWireCannotCarry(t *testing.T) {
	long := string(make([]byte, MaxStringLen+1))
	cases := []struct {
		name string
		p    Packet
		v    uint8
	}{
		{"string over 32767", &Disconnect{Reason: long}, 2},
		{"seq over u32 before v6", &Sendack{MessageSeq: 1 << 32}, 5},
		{"no version", &Send{}, 0},
	}
	for _, c := range cases {
		dst := []byte("keep")
		got, err := AppendFrame(dst, c.p, c.v)
		var ee *EncodeError
		if !errors.As(err, &ee) || string(got) != "keep" {
			t.Errorf("%s: got %q %v, want an *EncodeError and dst unchanged", c.name, got, err)
		}
	}
	if _, err := AppendFrame(nil, &Sendack{MessageSeq: 1 << 32}, 6); err != nil {
		t.Errorf("u64 seq at v6: %v", err)
	}
}

func TestLengthVarintBoundaries(t *testing.T) {
	for _, n := range []int{0, 1, 127, 128, 16383, 16384, 2097151, 2097152, maxRemainingLength} {
		b := appendLength(nil, n)
		got, size, err := readLength(b)
		if err != nil || got != n || size != len(b) || size != lengthSize(n) {
			t.Errorf("%d: encoded %x, read %d size %d err %v", n, b, got, size, err)
		}
	}
}
