// Package proto is the WKProto codec and its session cryptography: it turns
// client frames into typed packets and back, byte for byte as the official
// WuKongIM SDKs do, for protocol versions 2 through 6.
//
// Its one job is translation. It decides nothing about connections, users or
// channels, and it lives in the deterministic core, so it is pure code: no
// I/O, no goroutines, no clock, no sockets, no files and no global
// randomness. Randomness (the X25519 private key, the session salt) is handed
// in by the caller as an io.Reader.
//
// It may import only the standard library's encoding, crypto and formatting
// packages (crypto/aes, crypto/cipher, crypto/ecdh, crypto/md5, crypto/subtle,
// encoding/base64, encoding/binary, encoding/hex, errors, fmt, io, strconv)
// and nothing from this module.
//
// The pieces, top-down:
//
//   - types.go, errors.go: packet types, flags, settings, reason codes; the
//     *DecodeError every malformed input becomes.
//   - frame.go, varint.go: AppendFrame, ParseFrame and DecodeFrame, one frame
//     to and from bytes; reader.go and writer.go walk a body.
//   - decoder.go: Decoder, the per-connection streaming decoder.
//   - connect.go, send.go, recv.go, sub.go, event.go, packet.go: the packet
//     structs, fields in wire order.
//   - keys.go, salt.go, session.go, msgkey.go: the X25519 handshake, the
//     AES session and the msg_key.
//
// The wire format is the one in docs/PROTOCOL.md. Where the reference
// JavaScript SDK (wukongimjssdk 1.0.4, protocol version 2) differs from that
// document, the SDK wins for version 2, and the difference is noted where it
// is handled; testdata/sdk holds vectors produced by the SDK's own code
// (tools/sdkvectors). What the SDK does that the document does not say:
//
//   - Its stream setting bit is 0x04, not 0x02 (see SettingStreamSDK).
//   - It reads every integer as unsigned: a negative CONNACK time_diff
//     arrives as a huge number, and msg_keys render message_id and
//     timestamp unsigned (the same for all values the server sends).
//   - Its RECVACK writes message_id through a double: for ids above 2^53
//     whose low 32 bits lie within a few hundred of 2^32 (about one id in
//     ten million) it acks a different id (recvs.json, "snowflake id the
//     SDK misacks"). Match acks by message_seq too.
//   - When one WebSocket message holds several frames it drops or repeats
//     some (framing.json), so the server must write each frame as its own
//     message. A frame split across messages is handled.
//   - It echoes NoPersist, RedDot and SyncOnce, not Dup, in RECVACK.
//   - It decrypts payloads as UTF-8 text, so plaintexts must be UTF-8.
package proto
