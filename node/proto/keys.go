package proto

import (
	"crypto/ecdh"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"io"
)

// NewPrivateKey makes an X25519 private key from 32 bytes of rnd. The
// caller owns the randomness: a cryptographic source in production, a
// seeded one in simulation. (crypto/ecdh's GenerateKey ignores its reader
// from Go 1.26 on, so this reads the bytes itself.)
func NewPrivateKey(rnd io.Reader) (*ecdh.PrivateKey, error) {
	var seed [32]byte
	if _, err := io.ReadFull(rnd, seed[:]); err != nil {
		return nil, err
	}
	return ecdh.X25519().NewPrivateKey(seed[:])
}

// EncodePublicKey is the key's wire form: standard base64 of its 32 bytes,
// as client_key in CONNECT and server_key in CONNACK.
func EncodePublicKey(k *ecdh.PublicKey) string {
	return base64.StdEncoding.EncodeToString(k.Bytes())
}

// DecodePublicKey parses a client_key or server_key.
func DecodePublicKey(s string) (*ecdh.PublicKey, error) {
	if s == "" {
		return nil, ErrClientKey
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, ErrClientKey
	}
	k, err := ecdh.X25519().NewPublicKey(b)
	if err != nil {
		return nil, ErrClientKey
	}
	return k, nil
}

// SharedAESKey runs X25519 and derives the session's AES key: the first 16
// characters of lowercase_hex(MD5(base64(shared))), used as ASCII bytes.
func SharedAESKey(priv *ecdh.PrivateKey, peer *ecdh.PublicKey) (string, error) {
	shared, err := priv.ECDH(peer)
	if err != nil { // an all-zero secret: the peer sent a low-order point
		return "", ErrClientKey
	}
	return DeriveAESKey(shared), nil
}

// DeriveAESKey turns an X25519 shared secret into the session's AES key.
func DeriveAESKey(shared []byte) string {
	sum := md5.Sum([]byte(base64.StdEncoding.EncodeToString(shared)))
	return hex.EncodeToString(sum[:])[:16]
}
