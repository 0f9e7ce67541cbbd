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
// packages (crypto/aes, crypto/cipher, crypto/ecdh, crypto/md5,
// encoding/base64, encoding/binary, encoding/hex, errors, fmt, io, strconv)
// and nothing from this module.
//
// The pieces, top-down:
//
//   - frame.go: AppendFrame and ParseFrame, one frame to and from bytes.
//   - decoder.go: Decoder, the per-connection streaming decoder.
//   - connect.go … event.go: one file per packet family, fields in wire order.
//   - session.go, msgkey.go, salt.go: the handshake and per-packet crypto.
//
// The wire format is the one in shared/PROTOCOL.md. Where the reference
// JavaScript SDK (wukongimjssdk 1.0.4, protocol version 2) differs from that
// document, the SDK wins for version 2, and the difference is noted where it
// is handled; testdata/sdk holds vectors produced by the SDK's own code.
package proto
