package state

import (
	"fmt"
	"slices"

	"github.com/jindou-im/jindou/node/internal/invariant"
	"github.com/jindou-im/jindou/node/proto"
)

func (f *fsm) apply(c *Command) Result {
	switch c.Op {
	case OpChannel:
		rec := f.setInfo(c)
		f.setSubscribers(c.Ch, rec, c.UIDs, c.Reset)
		return Result{MembersChanged: true}
	case OpChannelInfo:
		f.setInfo(c)
	case OpChannelDelete:
		rec := f.channel(c.Ch)
		rec.Info = ChannelInfo{}
		rec.WhitelistSize = 0
		f.putChannel(c.Ch, rec)
		for _, t := range []byte{tblSubscriber, tblBlacklist, tblWhitelist} {
			f.dropMembers(t, c.Ch)
			f.deleteRange(memberPrefix(f.slot, t, c.Ch))
		}
		return Result{MembersChanged: true}
	case OpSubAdd:
		rec := f.channel(c.Ch)
		if !rec.Info.Exists {
			rec.Info.Exists = true
			f.putChannel(c.Ch, rec)
		}
		f.setSubscribers(c.Ch, rec, c.UIDs, c.Reset)
		return Result{MembersChanged: true}
	case OpSubRemove:
		f.dropMembers(tblSubscriber, c.Ch)
		for _, uid := range c.UIDs {
			f.del(memberKey(f.slot, tblSubscriber, c.Ch, uid))
		}
		return Result{MembersChanged: true}
	case OpList:
		f.applyList(c)
	case OpSend:
		return f.applySend(c)
	case OpRefuse:
		return f.applyRefuse(c)
	case OpToken:
		f.put(tokenKey(f.slot, c.UID, uint8(c.Flag)), encode(tokenRecord{Token: c.Token, Level: c.Level}))
	case OpTokenClear:
		for flag := 0; flag < 256; flag++ {
			if c.Flag < 0 || c.Flag == flag {
				f.del(tokenKey(f.slot, c.UID, uint8(flag)))
			}
		}
	case OpSystemAdd:
		for _, uid := range c.UIDs {
			f.put(systemUIDKey(uid), nil)
		}
		return Result{SystemChanged: true}
	case OpSystemRemove:
		for _, uid := range c.UIDs {
			f.del(systemUIDKey(uid))
		}
		return Result{SystemChanged: true}
	case OpConvClear, OpConvSetUnread, OpConvDelete:
		f.applyConv(c)
	case OpWebhookAck:
		f.applyWebhookAck(c)
	case OpSyncAck:
		f.applySyncAck(c)
	case OpEvent:
		f.applyEvent(c)
	case OpSubRemoveAll:
		f.dropMembers(tblSubscriber, c.Ch)
		f.deleteRange(memberPrefix(f.slot, tblSubscriber, c.Ch))
		return Result{MembersChanged: true}
	default:
		panic(fmt.Sprintf("node: unknown Command %q in slot %d", c.Op, f.slot))
	}
	return Result{}
}

// setInfo sets a channel's info (creating the channel) and returns its
// record.
func (f *fsm) setInfo(c *Command) ChannelRecord {
	rec := f.channel(c.Ch)
	if c.Info != nil {
		rec.Info = *c.Info
	}
	rec.Info.Exists = true
	f.putChannel(c.Ch, rec)
	return rec
}

// setSubscribers adds uids to the channel's subscribers; with reset, the
// subscribers not among uids are removed first. Members who stay keep their
// conversation as it is.
func (f *fsm) setSubscribers(ch ChannelKey, rec ChannelRecord, uids []string, reset bool) {
	f.dropMembers(tblSubscriber, ch)
	if reset {
		for _, old := range f.members(tblSubscriber, ch) {
			if !slices.Contains(uids, old) {
				f.del(memberKey(f.slot, tblSubscriber, ch, old))
			}
		}
	}
	f.addSubscribers(ch, rec, uids)
}

func (f *fsm) addSubscribers(ch ChannelKey, rec ChannelRecord, uids []string) {
	for _, uid := range uids {
		key := memberKey(f.slot, tblSubscriber, ch, uid)
		if f.has(key) {
			continue
		}
		f.put(key, nil)
		if !keepsConversations(ch.Type) {
			continue
		}
		// A new member's conversation starts read up to the current last seq.
		conv := f.conversation(uid, ch)
		conv.ReadSeq = max(conv.ReadSeq, rec.LastSeq)
		conv.DeletedSeq = 0
		f.putConversation(uid, ch, conv)
	}
}

func (f *fsm) applyList(c *Command) {
	f.dropMembers(c.Table, c.Ch)
	rec := f.channel(c.Ch)
	prefix := memberPrefix(f.slot, c.Table, c.Ch)
	if c.ListOp == ListSet || c.ListOp == ListRemoveAll {
		f.deleteRange(prefix)
	}
	for _, uid := range c.UIDs {
		switch c.ListOp {
		case ListAdd, ListSet:
			f.put(memberKey(f.slot, c.Table, c.Ch, uid), nil)
		case ListRemove:
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
func (f *fsm) applySend(c *Command) Result {
	s := c.Send
	dkey := f.dedupeKey(c.Ch, s.From, s.ClientMsgNo)
	expired := false
	if s.ClientMsgNo != "" {
		if d, ok := f.dedupe(c.Ch, s.From, s.ClientMsgNo, dkey); ok {
			if dedupeWindowHit(d.AtMs, c.AtMs, f.dedupeWindowMs) {
				if d.Refused != 0 {
					return Result{Refused: d.Refused} // an earlier attempt's refusal (refuse.go)
				}
				m := f.message(c.Ch, d.Seq)
				return Result{Msg: m, Duplicate: true}
			}
			expired = true
		}
	}
	rec := f.channel(c.Ch)
	rec.LastSeq++
	rec.LastTimestamp = int32(c.AtMs / 1000)
	m := &Message{
		MessageID: f.nextMessageID(s.ID, c.AtMs), Seq: rec.LastSeq, ClientMsgNo: s.ClientMsgNo,
		FromUID: s.From, Channel: c.Ch, Timestamp: rec.LastTimestamp, Header: s.Header,
		Setting: s.Setting, Expire: s.Expire, Topic: s.Topic, Payload: s.Payload, StreamNo: s.StreamNo,
	}
	// A person chat's conversations appear with its first message.
	if c.Ch.Type == proto.ChannelPerson && !rec.Convs {
		for _, uid := range c.Ch.PersonMembers() {
			if uid != s.From && !f.hasConversation(uid, c.Ch) {
				f.putConversation(uid, c.Ch, convRecord{})
			}
		}
		rec.Convs = true
	}
	f.putChannel(c.Ch, rec)
	f.putRecord(f.messageKey(c.Ch, m.Seq), m)
	if s.ClientMsgNo != "" {
		d := dedupeRecord{Seq: m.Seq, MessageID: m.MessageID, AtMs: c.AtMs}
		f.putRecord(dkey, &d)
		if f.cache != nil {
			f.cache.dedupeStored(c.Ch, s.From, s.ClientMsgNo, d)
		}
		f.indexClientMsgNo(c.Ch, s.ClientMsgNo, m.Seq)
	}
	f.enqueueOutbox(m, c.AtMs)
	res := Result{Msg: m, Recipients: f.recipients(c.Ch), DedupeExpired: expired}
	f.enqueueSyncOnce(m, res.Recipients) // syncqueue.go
	if keepsConversations(c.Ch.Type) {
		// The sender has read everything up to its own message.
		conv := f.conversation(s.From, c.Ch)
		conv.ReadSeq = m.Seq
		f.putConversation(s.From, c.Ch, conv)
	}
	return res
}

// recipients are the uids a message of channel ch goes to, sorted. The
// slice may be the cache's: nobody writes to it.
func (f *fsm) recipients(ch ChannelKey) []string {
	if ch.Type == proto.ChannelPerson {
		return ch.PersonMembers()
	}
	if f.cache != nil {
		if m := f.cache.memberSet(f.b, f.slot, memberSet{tblSubscriber, ch}); m != nil {
			return withVisitor(ch, m.sorted)
		}
	}
	return withVisitor(ch, f.members(tblSubscriber, ch))
}

func (f *fsm) applyConv(c *Command) {
	rec := f.channel(c.Ch)
	conv := f.conversation(c.UID, c.Ch)
	switch c.Op {
	case OpConvClear:
		conv.ReadSeq = rec.LastSeq
		if c.Seq != 0 {
			conv.ReadSeq = min(c.Seq, rec.LastSeq)
		}
	case OpConvSetUnread:
		conv.ReadSeq = rec.LastSeq - min(c.Unread, rec.LastSeq)
	case OpConvDelete:
		conv.DeletedSeq = rec.LastSeq
	}
	f.putConversation(c.UID, c.Ch, conv)
}

// Reading and writing through the batch.

func (f *fsm) get(key []byte) ([]byte, bool) { return GetValue(f.b, key) }

// dedupe reads the dedupe record of (ch, from, cmn) at key, through the
// cache when there is one.
func (f *fsm) dedupe(ch ChannelKey, from, cmn string, key []byte) (dedupeRecord, bool) {
	if f.cache != nil {
		return f.cache.dedupeLookup(f.b, f.slot, ch, from, cmn, key)
	}
	return readDedupe(f.b, key)
}

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

func (f *fsm) channel(ch ChannelKey) ChannelRecord {
	if f.cache == nil {
		return ReadChannel(f.b, f.slot, ch)
	}
	if rec, ok := f.cache.dirtyChannels[ch]; ok {
		return rec
	}
	if rec, ok := f.cache.channel(ch); ok {
		return rec
	}
	rec := ReadChannel(f.b, f.slot, ch)
	f.cache.setChannel(ch, rec)
	return rec
}

// putChannel writes a channel record: at once without a cache, else when
// the batch finishes (a burst of messages to a channel writes its record
// once).
func (f *fsm) putChannel(ch ChannelKey, rec ChannelRecord) {
	if f.cache == nil {
		f.putRecord(channelKey(f.slot, ch), rec)
		return
	}
	f.cache.markChannel(ch, rec)
}

func (f *fsm) conversation(uid string, ch ChannelKey) convRecord {
	k := convKey{uid, ch}
	if f.cache != nil {
		if rec, ok := f.cache.dirtyConvs[k]; ok {
			return rec
		}
		if rec, ok := f.cache.conv(k); ok {
			return rec
		}
	}
	var c convRecord
	if v, ok := f.get(conversationKey(f.slot, uid, ch)); ok {
		decode(v, &c)
	}
	if f.cache != nil {
		f.cache.setConv(k, c)
	}
	return c
}

// putConversation writes a cursor: at once without a cache, else when the
// batch finishes.
func (f *fsm) putConversation(uid string, ch ChannelKey, c convRecord) {
	if f.cache == nil {
		f.putRecord(conversationKey(f.slot, uid, ch), c)
		return
	}
	f.cache.markConv(convKey{uid, ch}, c)
}

// hasConversation reports whether uid has a conversation record in ch.
func (f *fsm) hasConversation(uid string, ch ChannelKey) bool {
	if f.cache != nil {
		if _, ok := f.cache.dirtyConvs[convKey{uid, ch}]; ok {
			return true
		}
	}
	return f.has(conversationKey(f.slot, uid, ch))
}

// dropMembers forgets a cached member set that the command changes.
func (f *fsm) dropMembers(table byte, ch ChannelKey) {
	if f.cache != nil {
		f.cache.dropMembers(memberSet{table, ch})
	}
}

func (f *fsm) message(ch ChannelKey, seq uint64) *Message {
	return ReadMessage(f.b, f.slot, ch, seq)
}

func (f *fsm) members(table byte, ch ChannelKey) []string {
	return readMembers(f.b, memberPrefix(f.slot, table, ch))
}

func (f *fsm) count(prefix []byte) int { return len(readMembers(f.b, prefix)) }

// nextMessageID assigns a new message its id: the one its proposer gave
// (SendCmd.ID) when that is above every id the slot has applied, else the
// successor of the last one. Either way ids increase within the slot in log
// order, and every replica assigns the same.
func (f *fsm) nextMessageID(proposed, atMs int64) int64 {
	meta := f.meta()
	id := proposed
	if id <= meta.LastID {
		id = NextMessageID(meta.LastID, f.slot, atMs)
	}
	if id <= meta.LastID || SlotOfMessageID(id) != f.slot {
		invariant.Fail("slot %d: message id %d after %d (slot field %d)", f.slot, id, meta.LastID, SlotOfMessageID(id))
	}
	meta.LastID = id
	if f.cache == nil {
		f.putRecord(slotMetaKey(f.slot), meta)
		return id
	}
	if f.cache.meta == nil {
		f.cache.meta = new(slotMeta)
	}
	*f.cache.meta, f.cache.metaDirty = meta, true // written once per batch (Machine.FinishBatch)
	return id
}

func (f *fsm) meta() slotMeta {
	if f.cache != nil && f.cache.meta != nil {
		return *f.cache.meta
	}
	return readMeta(f.b, f.slot)
}

// putRecord writes a record, encoded into the machine's scratch buffer
// (Pebble copies what it is given).
func (f *fsm) putRecord(key []byte, r marshaler) {
	if f.scratch == nil {
		f.put(key, encode(r))
		return
	}
	if f.m != nil {
		*f.scratch = f.m.appendRecord((*f.scratch)[:0], r)
	} else {
		*f.scratch = appendRecord((*f.scratch)[:0], r)
	}
	f.put(key, *f.scratch)
}

// dedupeKey and messageKey build the send path's keys into the machine's
// buffers when there is a machine (each valid until the next call of the
// same function), else into new slices.
func (f *fsm) dedupeKey(ch ChannelKey, from, cmn string) []byte {
	if f.m == nil {
		return dedupeKey(f.slot, ch, from, cmn)
	}
	f.m.dkey = appendDedupeKey(f.m.dkey[:0], f.slot, ch, from, cmn)
	return f.m.dkey
}

func (f *fsm) messageKey(ch ChannelKey, seq uint64) []byte {
	if f.m == nil {
		return messageKey(f.slot, ch, seq)
	}
	f.m.mkey = appendMessageKey(f.m.mkey[:0], f.slot, ch, seq)
	return f.m.mkey
}
