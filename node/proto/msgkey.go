package proto

import (
	"crypto/md5"
	"crypto/subtle"
	"encoding/hex"
	"strconv"
)

// A msg_key binds a SEND or RECV's identifying fields to its payload:
// lowercase_hex(MD5(enc(sign))), where enc is the session's encryption and
// sign concatenates the fields in decimal or as text (PROTOCOL.md §5).
//
// The JS SDK reads every integer as unsigned, so message_id and timestamp
// are written here as unsigned decimals; they differ from a signed rendering
// only for negative values, which the server never sends.

// MsgKeyLen is the length of a msg_key: 32 hex characters.
const MsgKeyLen = 32

// appendSendSign appends decimal(client_seq) ‖ client_msg_no ‖ channel_id ‖
// decimal(channel_type) ‖ payload.
func appendSendSign(dst []byte, p *Send) []byte {
	dst = strconv.AppendUint(dst, uint64(p.ClientSeq), 10)
	dst = append(dst, p.ClientMsgNo...)
	dst = append(dst, p.ChannelID...)
	dst = strconv.AppendUint(dst, uint64(p.ChannelType), 10)
	return append(dst, p.Payload...)
}

// appendRecvSign appends decimal(message_id) ‖ decimal(message_seq) ‖
// client_msg_no ‖ decimal(timestamp) ‖ from_uid ‖ channel_id ‖
// decimal(channel_type) ‖ payload.
func appendRecvSign(dst []byte, p *Recv) []byte {
	dst = strconv.AppendUint(dst, uint64(p.MessageID), 10)
	dst = strconv.AppendUint(dst, p.MessageSeq, 10)
	dst = append(dst, p.ClientMsgNo...)
	dst = strconv.AppendUint(dst, uint64(uint32(p.Timestamp)), 10)
	dst = append(dst, p.FromUID...)
	dst = append(dst, p.ChannelID...)
	dst = strconv.AppendUint(dst, uint64(p.ChannelType), 10)
	return append(dst, p.Payload...)
}

// msgKey computes the msg_key of the sign string in s.sign.
func (s *Session) msgKey() (key [MsgKeyLen]byte) {
	s.enc = s.AppendEncrypt(s.enc[:0], s.sign)
	sum := md5.Sum(s.enc)
	hex.Encode(key[:], sum[:])
	return key
}

// SendMsgKey is the msg_key of p as it stands (Payload already encrypted).
func (s *Session) SendMsgKey(p *Send) string {
	s.sign = appendSendSign(s.sign[:0], p)
	key := s.msgKey()
	return string(key[:])
}

// RecvMsgKey is the msg_key of p as it stands (Payload already encrypted).
func (s *Session) RecvMsgKey(p *Recv) string {
	s.sign = appendRecvSign(s.sign[:0], p)
	key := s.msgKey()
	return string(key[:])
}

// VerifySend reports whether p's msg_key matches its fields and payload.
func (s *Session) VerifySend(p *Send) bool {
	s.sign = appendSendSign(s.sign[:0], p)
	key := s.msgKey()
	return subtle.ConstantTimeCompare(key[:], []byte(p.MsgKey)) == 1
}

// VerifyRecv reports whether p's msg_key matches its fields and payload.
func (s *Session) VerifyRecv(p *Recv) bool {
	s.sign = appendRecvSign(s.sign[:0], p)
	key := s.msgKey()
	return subtle.ConstantTimeCompare(key[:], []byte(p.MsgKey)) == 1
}

// OpenSend verifies p's msg_key and appends its decrypted payload to dst.
// Either failure is ErrMsgKey or ErrDecrypt; the server answers both with
// ReasonPayloadDecodeError. It ignores SettingNoEncrypt: whether to accept a
// plain payload is the server's policy.
func (s *Session) OpenSend(dst []byte, p *Send) ([]byte, error) {
	if !s.VerifySend(p) {
		return dst, ErrMsgKey
	}
	return s.AppendDecrypt(dst, p.Payload)
}

// OpenRecv is the client's OpenSend: it verifies a RECV and decrypts it.
func (s *Session) OpenRecv(dst []byte, p *Recv) ([]byte, error) {
	if !s.VerifyRecv(p) {
		return dst, ErrMsgKey
	}
	return s.AppendDecrypt(dst, p.Payload)
}

// SealRecv encrypts plaintext into p.Payload (a new slice) and sets
// p.MsgKey, after the other fields of p are final: the server calls it once
// per recipient connection, since each has its own key and IV.
func (s *Session) SealRecv(p *Recv, plaintext []byte) {
	p.Payload = s.AppendEncrypt(make([]byte, 0, EncryptedLen(len(plaintext))), plaintext)
	p.MsgKey = s.RecvMsgKey(p)
}

// SealSend is the client's SealRecv: it encrypts a SEND's payload and sets
// its msg_key.
func (s *Session) SealSend(p *Send, plaintext []byte) {
	p.Payload = s.AppendEncrypt(make([]byte, 0, EncryptedLen(len(plaintext))), plaintext)
	p.MsgKey = s.SendMsgKey(p)
}
