package state

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"

	"github.com/cockroachdb/pebble/v2"
)

// Readers shared by the state machine and the slot loop's queries.

func GetValue(r pebble.Reader, key []byte) ([]byte, bool) {
	v, closer, err := r.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false
	}
	if err != nil {
		panic(fmt.Sprintf("node: read %x: %v", key, err))
	}
	out := slices.Clone(v)
	closer.Close()
	return out, true
}

func ReadChannel(r pebble.Reader, slot int, ch ChannelKey) ChannelRecord {
	var rec ChannelRecord
	if v, ok := GetValue(r, channelKey(slot, ch)); ok {
		decode(v, &rec)
	}
	return rec
}

func ReadMessage(r pebble.Reader, slot int, ch ChannelKey, seq uint64) *Message {
	v, ok := GetValue(r, messageKey(slot, ch, seq))
	if !ok {
		return nil
	}
	var m Message
	decode(v, &m)
	return &m
}

// readMembers lists the uids stored under prefix, in key (sorted) order.
func readMembers(r pebble.Reader, prefix []byte) []string {
	var out []string
	Scan(r, prefix, func(k, _ []byte) { out = append(out, string(k[len(prefix):])) })
	return out
}

// Scan calls fn for every key with the given prefix, in order.
func Scan(r pebble.Reader, prefix []byte, fn func(k, v []byte)) {
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		panic(fmt.Sprintf("node: iterator: %v", err))
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		fn(it.Key(), it.Value())
	}
}

// ReadMessages returns the stored messages of ch with seqs in [lo, hi].
func ReadMessages(r pebble.Reader, slot int, ch ChannelKey, lo, hi uint64) []*Message {
	var out []*Message
	if lo > hi {
		return nil
	}
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: messageKey(slot, ch, lo), UpperBound: messageKey(slot, ch, hi+1)})
	if err != nil {
		panic(fmt.Sprintf("node: iterator: %v", err))
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		var m Message
		decode(it.Value(), &m)
		out = append(out, &m)
	}
	return out
}

func u64(b []byte) uint64 { return binary.BigEndian.Uint64(b) }

func readMeta(r pebble.Reader, slot int) slotMeta {
	var meta slotMeta
	if v, ok := GetValue(r, slotMetaKey(slot)); ok {
		decode(v, &meta)
	}
	return meta
}

// ReadIsMember reports whether uid is in a channel's subscribers or list of
// slot, from the store (for a slot the caller does not own).
func ReadIsMember(r pebble.Reader, slot int, table byte, ch ChannelKey, uid string) bool {
	return has(r, memberKey(slot, table, ch, uid))
}

// SlotDigest is a hash of the slot's applied state (every key and value of
// its tables): replicas that applied the same entries have the same
// digest, so the simulator compares them after healing.
func SlotDigest(r pebble.Reader, slot int) uint64 {
	h := fnv.New64a()
	Scan(r, slotPrefix('d', slot), func(k, v []byte) {
		_, _ = h.Write(binary.BigEndian.AppendUint32(nil, uint32(len(k))))
		_, _ = h.Write(k)
		_, _ = h.Write(binary.BigEndian.AppendUint32(nil, uint32(len(v))))
		_, _ = h.Write(v)
	})
	return h.Sum64()
}
