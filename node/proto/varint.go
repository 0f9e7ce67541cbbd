package proto

// The remaining length is MQTT's base-128 varint: least significant group
// first, high bit set on every byte but the last, at most four bytes.

// appendLength appends n (0 <= n <= maxRemainingLength) as a varint.
func appendLength(dst []byte, n int) []byte {
	for {
		b := byte(n & 0x7f)
		n >>= 7
		if n == 0 {
			return append(dst, b)
		}
		dst = append(dst, b|0x80)
	}
}

// lengthSize is how many bytes appendLength writes for n.
func lengthSize(n int) int {
	size := 1
	for n >= 0x80 {
		n >>= 7
		size++
	}
	return size
}

// readLength decodes a varint from the front of b. It returns the value and
// the number of bytes it took; size 0 means b ends before the varint does.
// A varint running past four bytes is a KindBadLength error.
func readLength(b []byte) (n, size int, err *DecodeError) {
	for i := 0; i < 4; i++ {
		if i == len(b) {
			return 0, 0, nil
		}
		n |= int(b[i]&0x7f) << (7 * i)
		if b[i]&0x80 == 0 {
			return n, i + 1, nil
		}
	}
	return 0, 0, &DecodeError{Kind: KindBadLength}
}
