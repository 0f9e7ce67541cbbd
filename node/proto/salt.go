package proto

import "io"

// SaltLen is the length of a session salt, the CBC IV of every packet.
const SaltLen = 16

const saltAlphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

// NewSalt draws SaltLen characters from [0-9a-zA-Z] out of rnd. It rejects
// bytes of 248 and above (248 = 4 * 62), so every character is equally
// likely; the same rnd bytes always give the same salt.
func NewSalt(rnd io.Reader) (string, error) {
	var out [SaltLen]byte
	var buf [SaltLen]byte
	for n := 0; n < SaltLen; {
		if _, err := io.ReadFull(rnd, buf[:]); err != nil {
			return "", err
		}
		for _, b := range buf {
			if b < 248 && n < SaltLen {
				out[n] = saltAlphabet[b%62]
				n++
			}
		}
	}
	return string(out[:]), nil
}
