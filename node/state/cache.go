package state

// cache keeps a slot's hot records in memory: channel records and the
// message id generator's state. Only the loop that owns the slot uses it,
// and records are written only by the state machine, through it, so it
// always equals what the store holds (a restart begins empty; the
// expensive invariants compare it with the store). Reads that miss fill
// it.
type cache struct {
	channels map[ChannelKey]ChannelRecord
	meta     *slotMeta
}

// maxCachedChannels bounds a slot's cache of channel records: past it the
// cache starts over. 4096 records of a few dozen bytes keep a slot's hot
// channels in memory without letting a slot with millions of channels grow
// without bound.
const maxCachedChannels = 4096

func (c *cache) channel(ch ChannelKey) (ChannelRecord, bool) {
	rec, ok := c.channels[ch]
	return rec, ok
}

func (c *cache) setChannel(ch ChannelKey, rec ChannelRecord) {
	if c.channels == nil || len(c.channels) >= maxCachedChannels {
		c.channels = map[ChannelKey]ChannelRecord{}
	}
	c.channels[ch] = rec
}
