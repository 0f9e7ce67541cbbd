package state

import (
	"bytes"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// A slot's snapshot: every key and value of its applied state (the 'd'
// space of the slot), which is what a replica that fell behind the log's
// compacted prefix needs to catch up. It is raft's snapshot data; its
// index and term are raft's metadata. A snapshot from a peer is input: a
// key outside the slot's range makes it corrupt.

// snapshotFormat is the first byte of a snapshot.
const snapshotFormat = 1

// DumpSlot is the snapshot of slot's applied state in r.
func DumpSlot(r pebble.Reader, slot int) []byte {
	w := NewWriter([]byte{snapshotFormat})
	Scan(r, slotPrefix('d', slot), func(k, v []byte) {
		w.Raw(k)
		w.Raw(v)
	})
	return w.Bytes()
}

// LoadSlot writes into b what replaces slot's applied state with the
// snapshot data: a range deletion of the old state, then every pair. b is
// committed as one batch, so the replacement is atomic.
func LoadSlot(b *pebble.Batch, slot int, data []byte) error {
	if err := CheckSnapshot(slot, data); err != nil {
		return err
	}
	prefix := slotPrefix('d', slot)
	if err := b.DeleteRange(prefix, prefixEnd(prefix), nil); err != nil {
		return err
	}
	return eachPair(slot, data, func(k, v []byte) error { return b.Set(k, v, nil) })
}

// CheckSnapshot reports whether data is a well-formed snapshot of slot.
func CheckSnapshot(slot int, data []byte) error {
	return eachPair(slot, data, func(_, _ []byte) error { return nil })
}

func eachPair(slot int, data []byte, fn func(k, v []byte) error) error {
	if len(data) == 0 || data[0] != snapshotFormat {
		return fmt.Errorf("%w: snapshot format", ErrCorruptRecord)
	}
	prefix := slotPrefix('d', slot)
	r := NewReader(data[1:])
	for r.Err() == nil && len(r.d.b) > 0 {
		k, v := r.d.raw(), r.d.raw()
		if r.Err() != nil {
			break
		}
		if !bytes.HasPrefix(k, prefix) {
			return fmt.Errorf("%w: snapshot key %q outside slot %d", ErrCorruptRecord, k, slot)
		}
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return r.Err()
}
