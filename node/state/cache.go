package state

import "github.com/cockroachdb/pebble/v2"

// cache keeps a slot's hot records in memory, so that a send to a warm
// channel reads nothing from Pebble: channel records, the member sets a
// send is checked against (subscribers, blacklists, whitelists), users'
// conversation cursors, and the message id generator's state. Only the loop
// that owns the slot uses it, and these records are written only by the
// state machine, through it (or with it invalidating the entry), so it
// always equals what the store holds (a restart begins empty; the expensive
// invariants compare it with the store). Reads that miss fill it, from the
// store or from the batch being applied, which is always committed.
//
// Member sets are immutable once cached: a change drops the entry, and a
// slice handed out (a message's recipients) is never written again, so it
// may travel to other loops.
type cache struct {
	channels map[ChannelKey]ChannelRecord
	members  map[memberSet]*members
	// memberUIDs counts the uids of every cached set (at most
	// maxCachedMembers).
	memberUIDs int
	convs      map[convKey]convRecord
	meta       *slotMeta
	// metaDirty, dirtyChannels and dirtyConvs are what the batch being
	// applied changed: they are written when it finishes (Machine.
	// FinishBatch), once per batch rather than once per message, and read
	// before the rest of the cache until then.
	metaDirty     bool
	dirtyChannels map[ChannelKey]ChannelRecord
	dirtyConvs    map[convKey]convRecord
	// dedupes are the dedupe records of (channel, sender) pairs, each
	// complete (dedupe_cache.go); dedupeRecs counts them.
	dedupes    map[dedupePair]dedupeSet
	dedupeRecs int
}

// Bounds of a slot's cache; past one, that part starts over. Channel
// records and cursors are a few dozen bytes: 4096 and 16384 keep a slot's
// hot channels and active users in memory without letting a slot with
// millions of them grow without bound. Member sets are bounded by their
// uids in all (a large group is one set), and a set larger than
// maxCachedSet is not cached at all: its point lookups go to the store.
const (
	maxCachedChannels = 4096
	maxCachedConvs    = 16384
	maxCachedMembers  = 1 << 17
	maxCachedSet      = 1 << 15
)

// memberSet names one uid set of a channel: its subscribers or a list.
type memberSet struct {
	table byte
	ch    ChannelKey
}

// members is a cached uid set: sorted, and as a set.
type members struct {
	sorted []string
	set    map[string]struct{}
}

type convKey struct {
	uid string
	ch  ChannelKey
}

func (c *cache) channel(ch ChannelKey) (ChannelRecord, bool) {
	rec, ok := c.channels[ch]
	return rec, ok
}

func (c *cache) setChannel(ch ChannelKey, rec ChannelRecord) {
	c.channels = setBounded(c.channels, maxCachedChannels, ch, rec)
}

// setBounded sets m[k] = v, starting m over first when it holds limit
// entries already.
func setBounded[K comparable, V any](m map[K]V, limit int, k K, v V) map[K]V {
	if m == nil || len(m) >= limit {
		m = map[K]V{}
	}
	m[k] = v
	return m
}

// memberSet returns the cached set k of slot, loading it from r on a miss;
// nil when the set is too large to cache.
func (c *cache) memberSet(r pebble.Reader, slot int, k memberSet) *members {
	if m, ok := c.members[k]; ok {
		return m
	}
	uids := readMembers(r, memberPrefix(slot, k.table, k.ch))
	if len(uids) > maxCachedSet {
		return nil
	}
	if c.members == nil || c.memberUIDs+len(uids) > maxCachedMembers {
		c.members, c.memberUIDs = map[memberSet]*members{}, 0
	}
	m := &members{sorted: uids, set: make(map[string]struct{}, len(uids))}
	for _, u := range uids {
		m.set[u] = struct{}{}
	}
	c.members[k] = m
	c.memberUIDs += len(uids)
	return m
}

// dropMembers forgets set k: it is about to change.
func (c *cache) dropMembers(k memberSet) {
	if m, ok := c.members[k]; ok {
		c.memberUIDs -= len(m.sorted)
		delete(c.members, k)
	}
}

func (c *cache) conv(k convKey) (convRecord, bool) {
	rec, ok := c.convs[k]
	return rec, ok
}

func (c *cache) setConv(k convKey, rec convRecord) {
	c.convs = setBounded(c.convs, maxCachedConvs, k, rec)
}

func (c *cache) markChannel(ch ChannelKey, rec ChannelRecord) {
	if c.dirtyChannels == nil {
		c.dirtyChannels = map[ChannelKey]ChannelRecord{}
	}
	c.dirtyChannels[ch] = rec
	c.setChannel(ch, rec)
}

func (c *cache) markConv(k convKey, rec convRecord) {
	if c.dirtyConvs == nil {
		c.dirtyConvs = map[convKey]convRecord{}
	}
	c.dirtyConvs[k] = rec
	c.setConv(k, rec)
}
