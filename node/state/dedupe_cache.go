package state

import (
	"fmt"
	"strings"

	"github.com/cockroachdb/pebble/v2"
	"github.com/jindou-im/jindou/node/internal/invariant"
)

// The dedupe cache: every send with a client_msg_no looks its dedupe key
// up, and almost every lookup misses (a new client_msg_no), which a cache of
// single keys cannot answer. So the cache is complete per (channel, sender):
// the first lookup of a pair reads every dedupe record the store holds
// under the pair's prefix (at most maxDedupeScan), and from then on the
// pair's map answers hits and misses alike, exactly, because the state
// machine is the only writer of dedupe records and writes each through it
// (applySend). A pair with more records than maxDedupePair is not kept: its
// lookups read the store, as every lookup did before.
//
// Keys are NUL-delimited (channel id, sender, client_msg_no), so a channel
// id or a sender with a NUL byte could write under another pair's prefix:
// such sends bypass the cache and drop it whole.

// Bounds of the dedupe cache: the records scanned to fill a pair, the
// records a pair may hold, and the records of all pairs of a slot (past it
// the cache starts over). A record costs about its client_msg_no and 40
// bytes.
const (
	maxDedupeScan   = 512
	maxDedupePair   = 4096
	maxCachedDedupe = 1 << 14
)

// dedupePair names the dedupe records of one sender in one channel.
type dedupePair struct {
	ch   ChannelKey
	from string
}

// dedupeSet is every dedupe record the store holds for a pair, by
// client_msg_no.
type dedupeSet map[string]dedupeRecord

func dedupeCacheable(ch ChannelKey, from string) bool {
	return !strings.ContainsRune(ch.ID, 0) && !strings.ContainsRune(from, 0)
}

// dedupeLookup returns the dedupe record of (ch, from, cmn), reading it
// through the cache (r is the batch being applied, or the store).
func (c *cache) dedupeLookup(r pebble.Reader, slot int, ch ChannelKey, from, cmn string, key []byte) (dedupeRecord, bool) {
	if !dedupeCacheable(ch, from) {
		return readDedupe(r, key)
	}
	set, ok := c.dedupes[dedupePair{ch, from}]
	if !ok {
		set = c.loadDedupes(r, slot, ch, from)
	}
	// A nil set is a pair with too many records to keep: kept as such, so
	// that it is not scanned again at every send.
	if set == nil {
		return readDedupe(r, key)
	}
	d, ok := set[cmn]
	return d, ok
}

// readDedupe reads the dedupe record at key from r.
func readDedupe(r pebble.Reader, key []byte) (dedupeRecord, bool) {
	var d dedupeRecord
	v, ok := GetValue(r, key)
	if ok {
		decode(v, &d)
	}
	return d, ok
}

// loadDedupes reads a pair's records into the cache: nil (kept as the
// pair's entry, counted as one record) when the pair has more than
// maxDedupeScan.
func (c *cache) loadDedupes(r pebble.Reader, slot int, ch ChannelKey, from string) dedupeSet {
	prefix := appendDedupeKey(nil, slot, ch, from, "")
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		panic(fmt.Sprintf("node: iterator: %v", err))
	}
	defer it.Close()
	set := dedupeSet{}
	for ok := it.First(); ok && set != nil; ok = it.Next() {
		if len(set) == maxDedupeScan {
			set = nil
			break
		}
		var d dedupeRecord
		decode(it.Value(), &d)
		set[string(it.Key()[len(prefix):])] = d
	}
	cost := max(len(set), 1)
	if c.dedupes == nil || c.dedupeRecs+cost > maxCachedDedupe {
		c.dedupes, c.dedupeRecs = map[dedupePair]dedupeSet{}, 0
	}
	c.dedupes[dedupePair{ch, from}] = set
	c.dedupeRecs += cost
	return set
}

// dedupeStored records a dedupe record just written to the batch.
func (c *cache) dedupeStored(ch ChannelKey, from, cmn string, d dedupeRecord) {
	if !dedupeCacheable(ch, from) {
		c.dedupes, c.dedupeRecs = nil, 0
		return
	}
	p := dedupePair{ch, from}
	set := c.dedupes[p]
	if set == nil {
		return // filled from the store (and the batch) when first read, or too large to keep
	}
	if _, had := set[cmn]; !had {
		c.dedupeRecs++
	}
	set[cmn] = d
	if len(set) > maxDedupePair {
		c.dedupes[p] = nil // too large now: read from the store
		c.dedupeRecs -= len(set) - 1
	}
	if c.dedupeRecs > maxCachedDedupe {
		c.dedupes, c.dedupeRecs = nil, 0
	}
}

// checkDedupes asserts that every cached pair holds exactly the store's
// records (the expensive invariants).
func (c *cache) checkDedupes(r pebble.Reader, slot int) {
	//lint:maporder order-free: it only reads and asserts; a failure panics, whichever mismatch it names
	for p, set := range c.dedupes {
		if set == nil {
			continue
		}
		prefix := appendDedupeKey(nil, slot, p.ch, p.from, "")
		n := 0
		Scan(r, prefix, func(k, v []byte) {
			var d dedupeRecord
			decode(v, &d)
			cached, ok := set[string(k[len(prefix):])]
			invariant.Always(ok && cached == d, "slot %d: dedupe record %q of %s from %s is %+v in the store, cached %+v (%v)", slot, k[len(prefix):], p.ch, p.from, d, cached, ok)
			n++
		})
		invariant.Always(n == len(set), "slot %d: %d dedupe records of %s from %s cached, %d stored", slot, len(set), p.ch, p.from, n)
	}
}
