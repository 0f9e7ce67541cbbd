package proto

import (
	"errors"
	"fmt"
)

// ErrorKind classifies a malformed input.
type ErrorKind uint8

// Decode error kinds.
const (
	// KindUnknownType: the header's type nibble is 0 or above 12.
	KindUnknownType ErrorKind = iota + 1
	// KindBadHeader: flags where none are allowed (PING, PONG).
	KindBadHeader
	// KindBadLength: the remaining length runs past four bytes.
	KindBadLength
	// KindFrameTooLarge: the remaining length exceeds the configured maximum.
	KindFrameTooLarge
	// KindTruncated: a field runs past the end of the body.
	KindTruncated
	// KindStringTooLong: a str field declares more than MaxStringLen bytes.
	KindStringTooLong
	// KindTrailingBytes: bytes are left in the body after its last field.
	KindTrailingBytes
	// KindBadVersion: the version is outside MinVersion..LatestVersion
	// (for example a SEND decoded before CONNECT set the version).
	KindBadVersion
	// KindWrongType: a frame was decoded into a packet of another type.
	KindWrongType
)

var kindNames = [...]string{
	KindUnknownType:   "unknown packet type",
	KindBadHeader:     "bad header flags",
	KindBadLength:     "remaining length longer than 4 bytes",
	KindFrameTooLarge: "frame too large",
	KindTruncated:     "truncated",
	KindStringTooLong: "string too long",
	KindTrailingBytes: "trailing bytes",
	KindBadVersion:    "unsupported version",
	KindWrongType:     "wrong packet type",
}

func (k ErrorKind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return fmt.Sprintf("ErrorKind(%d)", uint8(k))
}

// DecodeError is the one error type of decoding: every malformed input
// yields a *DecodeError and nothing else.
type DecodeError struct {
	Kind ErrorKind
	// Type is the frame's packet type, or 0 if the header was not read.
	Type PacketType
	// Field names the field being read, if any.
	Field string
}

func (e *DecodeError) Error() string {
	msg := "wkproto: " + e.Kind.String()
	if e.Type != 0 {
		msg += " in " + e.Type.String()
	}
	if e.Field != "" {
		msg += " at " + e.Field
	}
	return msg
}

// EncodeError reports a packet that cannot be put on the wire.
type EncodeError struct {
	Type   PacketType
	Field  string
	Reason string
}

func (e *EncodeError) Error() string {
	return fmt.Sprintf("wkproto: cannot encode %s.%s: %s", e.Type, e.Field, e.Reason)
}

// ErrDecrypt reports a payload or msg_key that does not decrypt or verify.
// A SEND that fails with it is answered with ReasonPayloadDecodeError.
var ErrDecrypt = errors.New("wkproto: payload does not decrypt")

// ErrMsgKey reports a msg_key that does not match the packet.
var ErrMsgKey = errors.New("wkproto: msg_key does not verify")

// ErrClientKey reports a CONNECT client_key that is empty, not base64, not
// 32 bytes, or a low-order point.
var ErrClientKey = errors.New("wkproto: bad client key")
