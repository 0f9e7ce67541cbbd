package node

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/cockroachdb/pebble/v2"
)

// applyResult is what applying one command produced.
type applyResult struct {
	// Msg is the stored (or, for a duplicate, the original) message of a
	// send; nil otherwise.
	Msg *Message
	// Duplicate: the send repeated a stored one within the dedupe window.
	Duplicate bool
	// Recipients are the uids a new message is delivered to.
	Recipients []string
	// MembersChanged: the channel's subscribers changed.
	MembersChanged bool
	// SystemChanged: the system uid set changed.
	SystemChanged bool
}

// fsm applies commands of one slot to an indexed batch, reading its own
// writes. It owns nothing across calls but the slot's cache, if given.
type fsm struct {
	slot           int
	b              *pebble.Batch
	dedupeWindowMs int64
	// cache, if set, is the slot's cache of hot records (see slotCache).
	cache *slotCache
}

// slotCache keeps a slot's hot records in memory: channel records and the
// message id generator's state. Only the loop that owns the slot uses it,
// and records are written only by the state machine, through it, so it
// always equals what the store holds (a restart begins empty). Reads that
// miss fill it.
type slotCache struct {
	channels map[ChannelKey]channelRecord
	meta     *slotMeta
}

// maxCachedChannels bounds a slot's cache; past it the cache starts over.
const maxCachedChannels = 4096

func (c *slotCache) channel(ch ChannelKey) (channelRecord, bool) {
	rec, ok := c.channels[ch]
	return rec, ok
}

func (c *slotCache) setChannel(ch ChannelKey, rec channelRecord) {
	if c.channels == nil || len(c.channels) >= maxCachedChannels {
		c.channels = map[ChannelKey]channelRecord{}
	}
	c.channels[ch] = rec
}

func (f *fsm) apply(c *command) applyResult {
	switch c.Op {
	case opChannel:
		rec := f.channel(c.Ch)
		if c.Info != nil {
			rec.Info = *c.Info
		}
		rec.Info.Exists = true
		f.putChannel(c.Ch, rec)
		f.setSubscribers(c.Ch, rec, c.UIDs, c.Reset)
		return applyResult{MembersChanged: true}
	case opChannelInfo:
		rec := f.channel(c.Ch)
		if c.Info != nil {
			rec.Info = *c.Info
		}
		rec.Info.Exists = true
		f.putChannel(c.Ch, rec)
	case opChannelDelete:
		rec := f.channel(c.Ch)
		rec.Info = ChannelInfo{}
		rec.WhitelistSize = 0
		f.putChannel(c.Ch, rec)
		for _, t := range []byte{tblSubscriber, tblBlacklist, tblWhitelist} {
			f.deleteRange(memberPrefix(f.slot, t, c.Ch))
		}
		return applyResult{MembersChanged: true}
	case opSubAdd:
		rec := f.channel(c.Ch)
		if !rec.Info.Exists {
			rec.Info.Exists = true
			f.putChannel(c.Ch, rec)
		}
		f.setSubscribers(c.Ch, rec, c.UIDs, c.Reset)
		return applyResult{MembersChanged: true}
	case opSubRemove:
		for _, uid := range c.UIDs {
			f.del(memberKey(f.slot, tblSubscriber, c.Ch, uid))
		}
		return applyResult{MembersChanged: true}
	case opList:
		f.applyList(c)
	case opSend:
		return f.applySend(c)
	case opToken:
		f.put(tokenKey(f.slot, c.UID, uint8(c.Flag)), encode(tokenRecord{Token: c.Token, Level: c.Level}))
	case opTokenClear:
		for flag := 0; flag < 256; flag++ {
			if c.Flag < 0 || c.Flag == flag {
				f.del(tokenKey(f.slot, c.UID, uint8(flag)))
			}
		}
	case opSystemAdd:
		for _, uid := range c.UIDs {
			f.put(systemUIDKey(uid), nil)
		}
		return applyResult{SystemChanged: true}
	case opSystemRemove:
		for _, uid := range c.UIDs {
			f.del(systemUIDKey(uid))
		}
		return applyResult{SystemChanged: true}
	case opConvClear, opConvSetUnread, opConvDelete:
		f.applyConv(c)
	default:
		panic(fmt.Sprintf("node: unknown command %q in slot %d", c.Op, f.slot))
	}
	return applyResult{}
}

// setSubscribers adds uids to the channel's subscribers; with reset, the
// subscribers not among uids are removed first. Members who stay keep their
// conversation as it is.
func (f *fsm) setSubscribers(ch ChannelKey, rec channelRecord, uids []string, reset bool) {
	if reset {
		for _, old := range f.members(tblSubscriber, ch) {
			if !slices.Contains(uids, old) {
				f.del(memberKey(f.slot, tblSubscriber, ch, old))
			}
		}
	}
	f.addSubscribers(ch, rec, uids)
}

func (f *fsm) addSubscribers(ch ChannelKey, rec channelRecord, uids []string) {
	for _, uid := range uids {
		key := memberKey(f.slot, tblSubscriber, ch, uid)
		if f.has(key) {
			continue
		}
		f.put(key, nil)
		// A new member's conversation starts read up to the current last seq.
		conv := f.conversation(uid, ch)
		conv.ReadSeq = max(conv.ReadSeq, rec.LastSeq)
		conv.DeletedSeq = 0
		f.put(conversationKey(f.slot, uid, ch), encode(conv))
	}
}

func (f *fsm) applyList(c *command) {
	rec := f.channel(c.Ch)
	prefix := memberPrefix(f.slot, c.Table, c.Ch)
	if c.ListOp == listSet || c.ListOp == listRemoveAll {
		f.deleteRange(prefix)
	}
	for _, uid := range c.UIDs {
		switch c.ListOp {
		case listAdd, listSet:
			f.put(memberKey(f.slot, c.Table, c.Ch, uid), nil)
		case listRemove:
			f.del(memberKey(f.slot, c.Table, c.Ch, uid))
		}
	}
	if c.Table == tblWhitelist {
		rec.WhitelistSize = f.count(prefix)
		f.putChannel(c.Ch, rec)
	}
}

// applySend stores a message at the channel's next seq, unless it repeats a
// stored one within the dedupe window.
func (f *fsm) applySend(c *command) applyResult {
	s := c.Send
	dkey := dedupeKey(f.slot, c.Ch, s.From, s.ClientMsgNo)
	if s.ClientMsgNo != "" {
		if v, ok := f.get(dkey); ok {
			var d dedupeRecord
			decode(v, &d)
			if dedupeWindowHit(d.AtMs, c.AtMs, f.dedupeWindowMs) {
				m := f.message(c.Ch, d.Seq)
				return applyResult{Msg: m, Duplicate: true}
			}
		}
	}
	rec := f.channel(c.Ch)
	rec.LastSeq++
	rec.LastTimestamp = int32(c.AtMs / 1000)
	m := &Message{
		MessageID: f.nextMessageID(c.AtMs), Seq: rec.LastSeq, ClientMsgNo: s.ClientMsgNo,
		FromUID: s.From, Channel: c.Ch, Timestamp: rec.LastTimestamp, Header: s.Header,
		Setting: s.Setting, Expire: s.Expire, Topic: s.Topic, Payload: s.Payload,
	}
	// A person chat's conversations appear with its first message.
	if c.Ch.Type != 2 && !rec.Convs {
		for _, uid := range c.Ch.personMembers() {
			if uid != s.From && !f.has(conversationKey(f.slot, uid, c.Ch)) {
				f.put(conversationKey(f.slot, uid, c.Ch), encode(convRecord{}))
			}
		}
		rec.Convs = true
	}
	f.putChannel(c.Ch, rec)
	f.put(messageKey(f.slot, c.Ch, m.Seq), encode(m))
	if s.ClientMsgNo != "" {
		f.put(dkey, encode(dedupeRecord{Seq: m.Seq, MessageID: m.MessageID, AtMs: c.AtMs}))
	}
	res := applyResult{Msg: m, Recipients: f.recipients(c.Ch)}
	// The sender has read everything up to its own message.
	conv := f.conversation(s.From, c.Ch)
	conv.ReadSeq = m.Seq
	f.put(conversationKey(f.slot, s.From, c.Ch), encode(conv))
	return res
}

// recipients are the uids a message of channel ch goes to, sorted.
func (f *fsm) recipients(ch ChannelKey) []string {
	if ch.Type != 2 {
		return ch.personMembers()
	}
	return f.members(tblSubscriber, ch)
}

// messageIDEpochMs is the origin of message ids' milliseconds
// (2024-01-01 UTC): 41 bits of milliseconds last until 2093.
const messageIDEpochMs = 1704067200000

// nextMessageID makes a snowflake-like id: milliseconds since
// messageIDEpochMs << 22 | slot << 12 | counter, positive, increasing within
// the slot and unique across slots (< 1024), even when the proposer's clock
// goes back.
func (f *fsm) nextMessageID(atMs int64) int64 {
	atMs = max(atMs-messageIDEpochMs, 0)
	var meta slotMeta
	if f.cache != nil && f.cache.meta != nil {
		meta = *f.cache.meta
	} else if v, ok := f.get(slotMetaKey(f.slot)); ok {
		decode(v, &meta)
	}
	switch {
	case atMs > meta.IDMs:
		meta.IDMs, meta.IDN = atMs, 0
	case meta.IDN < 4095:
		meta.IDN++
	default:
		meta.IDMs, meta.IDN = meta.IDMs+1, 0
	}
	f.put(slotMetaKey(f.slot), encode(meta))
	if f.cache != nil {
		f.cache.meta = &meta
	}
	return meta.IDMs<<22 | int64(f.slot)<<12 | meta.IDN
}

func (f *fsm) applyConv(c *command) {
	rec := f.channel(c.Ch)
	key := conversationKey(f.slot, c.UID, c.Ch)
	conv := f.conversation(c.UID, c.Ch)
	switch c.Op {
	case opConvClear:
		conv.ReadSeq = rec.LastSeq
		if c.Seq != 0 {
			conv.ReadSeq = min(c.Seq, rec.LastSeq)
		}
	case opConvSetUnread:
		conv.ReadSeq = rec.LastSeq - min(c.Unread, rec.LastSeq)
	case opConvDelete:
		conv.DeletedSeq = rec.LastSeq
	}
	f.put(key, encode(conv))
}

// Reading and writing through the batch.

func (f *fsm) get(key []byte) ([]byte, bool) { return getValue(f.b, key) }

func (f *fsm) has(key []byte) bool { _, ok := f.get(key); return ok }

func (f *fsm) put(key, value []byte) {
	if err := f.b.Set(key, value, nil); err != nil {
		panic(fmt.Sprintf("node: batch set: %v", err))
	}
}

func (f *fsm) del(key []byte) {
	if err := f.b.Delete(key, nil); err != nil {
		panic(fmt.Sprintf("node: batch delete: %v", err))
	}
}

func (f *fsm) deleteRange(prefix []byte) {
	if err := f.b.DeleteRange(prefix, prefixEnd(prefix), nil); err != nil {
		panic(fmt.Sprintf("node: batch delete range: %v", err))
	}
}

func (f *fsm) channel(ch ChannelKey) channelRecord {
	if f.cache == nil {
		return readChannel(f.b, f.slot, ch)
	}
	if rec, ok := f.cache.channel(ch); ok {
		return rec
	}
	rec := readChannel(f.b, f.slot, ch)
	f.cache.setChannel(ch, rec)
	return rec
}

func (f *fsm) putChannel(ch ChannelKey, rec channelRecord) {
	f.put(channelKey(f.slot, ch), encode(rec))
	if f.cache != nil {
		f.cache.setChannel(ch, rec)
	}
}

func (f *fsm) conversation(uid string, ch ChannelKey) convRecord {
	var c convRecord
	if v, ok := f.get(conversationKey(f.slot, uid, ch)); ok {
		decode(v, &c)
	}
	return c
}

func (f *fsm) message(ch ChannelKey, seq uint64) *Message {
	return readMessage(f.b, f.slot, ch, seq)
}

func (f *fsm) members(table byte, ch ChannelKey) []string {
	return readMembers(f.b, memberPrefix(f.slot, table, ch))
}

func (f *fsm) count(prefix []byte) int { return len(readMembers(f.b, prefix)) }

// Readers shared by the state machine and the slot loop's queries.

func getValue(r pebble.Reader, key []byte) ([]byte, bool) {
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

func readChannel(r pebble.Reader, slot int, ch ChannelKey) channelRecord {
	var rec channelRecord
	if v, ok := getValue(r, channelKey(slot, ch)); ok {
		decode(v, &rec)
	}
	return rec
}

func readMessage(r pebble.Reader, slot int, ch ChannelKey, seq uint64) *Message {
	v, ok := getValue(r, messageKey(slot, ch, seq))
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
	scan(r, prefix, func(k, _ []byte) { out = append(out, string(k[len(prefix):])) })
	return out
}

// scan calls fn for every key with the given prefix, in order.
func scan(r pebble.Reader, prefix []byte, fn func(k, v []byte)) {
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		panic(fmt.Sprintf("node: iterator: %v", err))
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		fn(it.Key(), it.Value())
	}
}

// readMessages returns the stored messages of ch with seqs in [lo, hi].
func readMessages(r pebble.Reader, slot int, ch ChannelKey, lo, hi uint64) []*Message {
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
