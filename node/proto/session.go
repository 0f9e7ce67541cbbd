package proto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"encoding/base64"
	"errors"
	"io"
)

// Session is one connection's cipher: AES-128-CBC with PKCS#7 padding, the
// key from the X25519 exchange and the salt as the IV of every packet, the
// ciphertext carried as base64 text. It is not safe for concurrent use: it
// keeps scratch buffers so that steady-state calls do not allocate.
type Session struct {
	block     cipher.Block
	iv        [aes.BlockSize]byte // the salt's first 16 bytes
	aesKey    string              // 16 ASCII characters
	salt      string
	serverKey string // base64 of the server's public key; "" on the client side

	// encMode and decMode are made on first use and rewound to iv before
	// each later use when they support it (the standard library's AES-CBC
	// does).
	encMode, decMode cipher.BlockMode

	raw  []byte // scratch: padded plaintext, then ciphertext
	sign []byte // scratch: a msg_key's sign string
	enc  []byte // scratch: a msg_key's encrypted sign string
}

// NewSession makes a session from a derived AES key (16 characters) and a
// salt. Like the JS SDK, it uses the first 16 characters of a longer salt.
func NewSession(aesKey, salt string) (*Session, error) {
	if len(aesKey) != 16 {
		return nil, errors.New("wkproto: aes key must be 16 bytes")
	}
	if len(salt) < SaltLen {
		return nil, errors.New("wkproto: salt must be at least 16 bytes")
	}
	block, err := aes.NewCipher([]byte(aesKey))
	if err != nil {
		return nil, err
	}
	s := &Session{block: block, aesKey: aesKey, salt: salt[:SaltLen]}
	copy(s.iv[:], salt)
	// The CBC modes are made on first use (rewind): each copies the key
	// schedule, and a connection that never sends or receives needs none.
	return s, nil
}

// NewServerSession does the server's half of the handshake for a CONNECT
// carrying clientKey: a fresh key pair and salt from rnd, the shared AES
// key. The CONNACK carries s.ServerKey() and s.Salt(). A bad clientKey is
// ErrClientKey (answer ReasonClientKeyIsEmpty).
func NewServerSession(clientKey string, rnd io.Reader) (*Session, error) {
	peer, err := DecodePublicKey(clientKey)
	if err != nil {
		return nil, err
	}
	priv, err := NewPrivateKey(rnd)
	if err != nil {
		return nil, err
	}
	salt, err := NewSalt(rnd)
	if err != nil {
		return nil, err
	}
	aesKey, err := SharedAESKey(priv, peer)
	if err != nil {
		return nil, err
	}
	s, err := NewSession(aesKey, salt)
	if err != nil {
		return nil, err
	}
	s.serverKey = EncodePublicKey(priv.PublicKey())
	return s, nil
}

// NewClientSession does the client's half: priv is the key whose public
// half went out as client_key; serverKey and salt come from the CONNACK.
func NewClientSession(priv *ecdh.PrivateKey, serverKey, salt string) (*Session, error) {
	peer, err := DecodePublicKey(serverKey)
	if err != nil {
		return nil, err
	}
	aesKey, err := SharedAESKey(priv, peer)
	if err != nil {
		return nil, err
	}
	return NewSession(aesKey, salt)
}

// ServerKey is the server's public key for the CONNACK ("" on a session not
// made by NewServerSession).
func (s *Session) ServerKey() string { return s.serverKey }

// Salt is the session's IV as its 16 characters, for the CONNACK.
func (s *Session) Salt() string { return s.salt }

// AESKey is the derived key as its 16 characters.
func (s *Session) AESKey() string { return s.aesKey }

// EncryptedLen is the length of the payload AppendEncrypt makes from n
// plaintext bytes.
func EncryptedLen(n int) int {
	return base64.StdEncoding.EncodedLen(n + aes.BlockSize - n%aes.BlockSize)
}

// AppendEncrypt appends base64(AES-CBC-PKCS7(plaintext)) to dst.
func (s *Session) AppendEncrypt(dst, plaintext []byte) []byte {
	pad := aes.BlockSize - len(plaintext)%aes.BlockSize
	s.raw = append(s.raw[:0], plaintext...)
	for i := 0; i < pad; i++ {
		s.raw = append(s.raw, byte(pad))
	}
	s.rewind(&s.encMode, cipher.NewCBCEncrypter).CryptBlocks(s.raw, s.raw)
	return base64.StdEncoding.AppendEncode(dst, s.raw)
}

// AppendDecrypt reverses AppendEncrypt: it appends the plaintext of a
// base64 payload to dst. Anything malformed is ErrDecrypt.
func (s *Session) AppendDecrypt(dst, payload []byte) ([]byte, error) {
	var err error
	s.raw, err = base64.StdEncoding.AppendDecode(s.raw[:0], payload)
	if err != nil || len(s.raw) == 0 || len(s.raw)%aes.BlockSize != 0 {
		return dst, ErrDecrypt
	}
	s.rewind(&s.decMode, cipher.NewCBCDecrypter).CryptBlocks(s.raw, s.raw)
	pad := int(s.raw[len(s.raw)-1])
	if pad == 0 || pad > aes.BlockSize {
		return dst, ErrDecrypt
	}
	body := len(s.raw) - pad
	for _, b := range s.raw[body:] {
		if int(b) != pad {
			return dst, ErrDecrypt
		}
	}
	return append(dst, s.raw[:body]...), nil
}

// rewind returns *mode set back to the session IV, or a fresh mode from
// newMode if *mode cannot be rewound.
func (s *Session) rewind(mode *cipher.BlockMode, newMode func(cipher.Block, []byte) cipher.BlockMode) cipher.BlockMode {
	if r, ok := (*mode).(interface{ SetIV([]byte) }); ok {
		r.SetIV(s.iv[:])
		return *mode
	}
	*mode = newMode(s.block, s.iv[:])
	return *mode
}
