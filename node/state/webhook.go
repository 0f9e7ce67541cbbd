package state

import (
	"encoding/binary"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// The webhook outbox: the durable queue of stored messages a receiver has
// not yet acknowledged, part of each slot's replicated state.
//
// When a machine has its outbox on (Machine.EnableOutbox: webhooks are
// configured), applying a stored send also writes an outbox entry keyed by
// the slot and the message id. Ids increase within a slot in log order on
// every replica, and so do a channel's seqs, so outbox order is log order:
// reading the outbox from its start yields each channel's messages in seq
// order. OpWebhookAck, proposed by the slot's leader once the receiver
// answered 200 for every entry up to an id, deletes them: a new leader
// continues from what is left, and a duplicate or stale ack deletes
// nothing more (it is idempotent).
//
//	'd' slot 'o' id(u64)        → outboxRecord

// OpWebhookAck (command.go) deletes a slot's outbox entries up to
// Command.Seq (a message id) once the webhook receiver has acknowledged
// them.

// outboxRecord is what an outbox entry points at.
type outboxRecord struct {
	Ch   ChannelKey
	Seq  uint64
	AtMs int64
}

func (r outboxRecord) marshal(e *enc) { r.Ch.marshal(e); e.uint(r.Seq); e.int(r.AtMs) }
func (r *outboxRecord) unmarshal(d *dec) {
	r.Ch.unmarshal(d)
	r.Seq, r.AtMs = d.uint(), d.int()
}

func outboxPrefix(slot int) []byte { return tableKey(slot, tblOutbox) }

func outboxKey(slot int, id int64) []byte {
	return binary.BigEndian.AppendUint64(outboxPrefix(slot), uint64(id))
}

// EnableOutbox makes the machine keep the webhook outbox. Every replica of
// a slot must agree (it is part of the applied state), as on Config.Slots.
func (m *Machine) EnableOutbox() { m.outbox = true }

// enqueueOutbox records a newly stored message in the outbox.
func (f *fsm) enqueueOutbox(msg *Message, atMs int64) {
	if f.m == nil || !f.m.outbox {
		return
	}
	f.putRecord(outboxKey(f.slot, msg.MessageID), outboxRecord{Ch: msg.Channel, Seq: msg.Seq, AtMs: atMs})
}

// applyWebhookAck deletes the outbox entries up to c.Seq.
func (f *fsm) applyWebhookAck(c *Command) {
	if c.Seq == 0 || c.Seq >= 1<<63 {
		return
	}
	if err := f.b.DeleteRange(outboxPrefix(f.slot), outboxKey(f.slot, int64(c.Seq)+1), nil); err != nil {
		panic(fmt.Sprintf("node: batch delete range: %v", err))
	}
}

// OutboxEntry is one undelivered message: its id, channel and seq, and
// when it was proposed (unix ms).
type OutboxEntry struct {
	ID   int64
	Ch   ChannelKey
	Seq  uint64
	AtMs int64
}

// ReadOutbox lists up to limit outbox entries of slot with ids above
// after, in id order.
func ReadOutbox(r pebble.Reader, slot int, after int64, limit int) []OutboxEntry {
	prefix := outboxPrefix(slot)
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: outboxKey(slot, after+1), UpperBound: prefixEnd(prefix)})
	if err != nil {
		panic(fmt.Sprintf("node: iterator: %v", err))
	}
	defer it.Close()
	var out []OutboxEntry
	for ok := it.First(); ok && len(out) < limit; ok = it.Next() {
		var rec outboxRecord
		decode(it.Value(), &rec)
		id := int64(binary.BigEndian.Uint64(it.Key()[len(prefix):]))
		out = append(out, OutboxEntry{ID: id, Ch: rec.Ch, Seq: rec.Seq, AtMs: rec.AtMs})
	}
	return out
}

// CountOutbox counts slot's outbox entries above after.
func CountOutbox(r pebble.Reader, slot int, after int64) int {
	prefix := outboxPrefix(slot)
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: outboxKey(slot, after+1), UpperBound: prefixEnd(prefix)})
	if err != nil {
		panic(fmt.Sprintf("node: iterator: %v", err))
	}
	defer it.Close()
	n := 0
	for ok := it.First(); ok; ok = it.Next() {
		n++
	}
	return n
}
