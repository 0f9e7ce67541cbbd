package node

import (
	"bytes"
	"testing"
)

func TestASnapshotChunkRoundTripsAndMalformedOnesAreRefused(t *testing.T) {
	b := encodeSnapChunk(7, 99, 2, 5, []byte("part"))
	c, err := decodeSnapChunk(b, 1024)
	if err != nil || c.slot != 7 || c.id != 99 || c.index != 2 || c.count != 5 || !bytes.Equal(c.part, []byte("part")) {
		t.Fatalf("decoded %+v, %v", c, err)
	}
	for name, bad := range map[string][]byte{
		"short":          b[:snapChunkHeader-1],
		"index past end": encodeSnapChunk(7, 99, 5, 5, []byte("x")),
		"one chunk":      encodeSnapChunk(7, 99, 0, 1, []byte("x")),
		"empty part":     encodeSnapChunk(7, 99, 0, 2, nil),
		"too large":      encodeSnapChunk(7, 99, 0, 1<<30, []byte("x")),
		"not a chunk":    append([]byte{peerFormat, peerRaft}, b[2:]...),
	} {
		if _, err := decodeSnapChunk(bad, 1024); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}
