package state

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/jindou-im/jindou/node/internal/invariant"
	"github.com/jindou-im/jindou/node/proto"
)

// Machine is the replicated state machine of one slot: it applies the
// slot's committed commands to the state store and keeps the slot's hot
// records in memory. Every replica applies the same commands in the same
// order and so reaches the same state, seqs and message ids. One loop owns
// a Machine; nothing in it is safe to share.
type Machine struct {
	slot           int
	dedupeWindowMs int64
	cache          cache
	// givenID is the last message id this node gave out as the slot's
	// leader (NextMessageID); 0 until it gives one.
	givenID int64
	// outbox: applied sends also enter the webhook outbox (webhook.go).
	outbox bool
	// scratch is the buffer records are encoded into before Pebble copies
	// them; dkey and mkey the send path's dedupe and message keys.
	scratch, dkey, mkey []byte
	// enc is the encoder of appendRecord: one that escapes to the heap
	// (records encode through an interface) would be an allocation per
	// record.
	enc enc
}

// appendRecord is state.appendRecord with the machine's encoder.
func (m *Machine) appendRecord(dst []byte, r marshaler) []byte {
	m.enc.b = append(dst, recordFormat)
	r.marshal(&m.enc)
	out := m.enc.b
	m.enc.b = nil
	return out
}

// NewMachine makes the state machine of slot; dedupeWindow is how long a
// (sender, channel, client_msg_no) is remembered.
func NewMachine(slot int, dedupeWindow time.Duration) *Machine {
	return &Machine{slot: slot, dedupeWindowMs: dedupeWindow.Milliseconds()}
}

// Apply applies c to b, an indexed batch over the state store, reading its
// own writes; the caller calls FinishBatch, then commits b. It returns what
// c produced.
func (m *Machine) Apply(b *pebble.Batch, c *Command) Result {
	f := fsm{slot: m.slot, b: b, dedupeWindowMs: m.dedupeWindowMs, cache: &m.cache, scratch: &m.scratch, m: m}
	return f.apply(c)
}

// FinishBatch writes what the batch's commands left to write once per batch:
// the channel records and cursors they changed, in key order, and the id
// generator's state.
func (m *Machine) FinishBatch(b *pebble.Batch) {
	c := &m.cache
	for _, ch := range slices.SortedFunc(maps.Keys(c.dirtyChannels), compareChannels) {
		m.set(b, channelKey(m.slot, ch), c.dirtyChannels[ch])
	}
	for _, k := range slices.SortedFunc(maps.Keys(c.dirtyConvs), compareConvs) {
		m.set(b, conversationKey(m.slot, k.uid, k.ch), c.dirtyConvs[k])
	}
	clear(c.dirtyChannels)
	clear(c.dirtyConvs)
	if c.metaDirty {
		m.set(b, slotMetaKey(m.slot), c.meta)
		c.metaDirty = false
	}
}

func compareChannels(a, b ChannelKey) int {
	return cmp.Or(cmp.Compare(a.Type, b.Type), strings.Compare(a.ID, b.ID))
}

func compareConvs(a, b convKey) int {
	return cmp.Or(strings.Compare(a.uid, b.uid), compareChannels(a.ch, b.ch))
}

// set writes a record into b, encoded into the scratch buffer.
func (m *Machine) set(b *pebble.Batch, k []byte, r marshaler) {
	m.scratch = m.appendRecord(m.scratch[:0], r)
	if err := b.Set(k, m.scratch, nil); err != nil {
		panic(fmt.Sprintf("node: batch set: %v", err))
	}
}

// IsMember reports whether uid is in the channel's subscribers or list
// (Blacklist, Whitelist), through the cache.
func (m *Machine) IsMember(r pebble.Reader, table byte, ch ChannelKey, uid string) bool {
	if set := m.cache.memberSet(r, m.slot, memberSet{table, ch}); set != nil {
		_, ok := set.set[uid]
		return ok
	}
	return has(r, memberKey(m.slot, table, ch, uid))
}

// NextMessageID gives out the id of a message that this node, as the
// slot's leader, proposes (carried in SendCmd.ID) or delivers without
// storing it (no_persist): one generator and one layout for every message.
// Ids it gives increase, and start above every id the slot has applied.
func (m *Machine) NextMessageID(r pebble.Reader, atMs int64) int64 {
	last := max(m.givenID, m.meta(r).LastID)
	m.givenID = NextMessageID(last, m.slot, atMs)
	return m.givenID
}

// Channel reads a channel record of the slot, through the cache.
func (m *Machine) Channel(r pebble.Reader, ch ChannelKey) ChannelRecord {
	if rec, ok := m.cache.channel(ch); ok {
		return rec
	}
	rec := ReadChannel(r, m.slot, ch)
	m.cache.setChannel(ch, rec)
	return rec
}

func (m *Machine) meta(r pebble.Reader) slotMeta {
	if m.cache.meta == nil {
		meta := readMeta(r, m.slot)
		m.cache.meta = &meta
	}
	return *m.cache.meta
}

// Result is what applying one Command produced.
type Result struct {
	// Msg is the stored (or, for a duplicate, the original) message of a
	// send; nil otherwise.
	Msg *Message
	// Duplicate: the send repeated a stored one within the dedupe window.
	Duplicate bool
	// Refused, if not 0: the send (OpSend or OpRefuse) was refused with
	// this reason, decided in the log (refuse.go); nothing was stored.
	Refused proto.ReasonCode
	// DedupeExpired: the send repeated a stored one whose dedupe window had
	// passed, and was stored anew.
	DedupeExpired bool
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
	// cache, if set, is the slot's cache of hot records.
	cache *cache
	// scratch, if set, is the machine's encoding buffer; m, if set, the
	// machine (its key buffers).
	scratch *[]byte
	m       *Machine
}

// CheckCache asserts that the cache equals the store it caches (an
// expensive invariant: callers run it under invariant.Enabled).
func (m *Machine) CheckCache(r pebble.Reader) {
	//lint:maporder order-free: it only reads and asserts; a failure panics, whichever mismatch it names
	for ch, rec := range m.cache.channels {
		stored := ReadChannel(r, m.slot, ch)
		invariant.Always(stored == rec, "slot %d: cached record of %s is %+v, stored %+v", m.slot, ch, rec, stored)
	}
	if m.cache.meta != nil {
		stored := readMeta(r, m.slot)
		invariant.Always(stored == *m.cache.meta, "slot %d: cached meta %+v, stored %+v", m.slot, *m.cache.meta, stored)
	}
	//lint:maporder order-free: it only reads and asserts; a failure panics, whichever mismatch it names
	for k, set := range m.cache.members {
		stored := readMembers(r, memberPrefix(m.slot, k.table, k.ch))
		invariant.Always(slices.Equal(stored, set.sorted) && len(set.set) == len(stored),
			"slot %d: cached members %c of %s are %v, stored %v", m.slot, k.table, k.ch, set.sorted, stored)
	}
	//lint:maporder order-free: it only reads and asserts; a failure panics, whichever mismatch it names
	for k, conv := range m.cache.convs {
		var stored convRecord
		if v, ok := GetValue(r, conversationKey(m.slot, k.uid, k.ch)); ok {
			decode(v, &stored)
		}
		invariant.Always(stored == conv, "slot %d: cached cursor of %s in %s is %+v, stored %+v", m.slot, k.uid, k.ch, conv, stored)
	}
	m.cache.checkDedupes(r, m.slot)
}
