package state

import (
	"encoding/binary"
	"math"

	"github.com/cockroachdb/pebble/v2"
	"github.com/jindou-im/jindou/node/proto"
)

// The per-user queue of sync_once messages (WuKongIM's offline CMD
// messages, POST /message/sync and /message/syncack). A stored message
// with the sync_once header is queued for each of its recipients but the
// sender; a user pulls the queue with /message/sync and acknowledges what
// it pulled with /message/syncack, which drops it from the queue.
//
// The queue lives with the channel, like a conversation: an entry is
// keyed by (uid, channel, seq) in the channel's slot, so a message never
// writes to another slot; pulling a user's queue reads every slot.

// tblSyncQueue: uid NUL chkey seq (u64) → "".
const tblSyncQueue = 'q'

// OpSyncAck drops from uid's queue (Command.UID) the entries of channel
// Command.Ch up to and including seq Command.Seq.
const OpSyncAck = "sync_ack"

func syncQueuePrefix(slot int, uid string) []byte {
	return append(append(tableKey(slot, tblSyncQueue), uid...), 0)
}

func syncQueueKey(slot int, uid string, ch ChannelKey, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(appendChannel(syncQueuePrefix(slot, uid), ch), seq)
}

// enqueueSyncOnce queues a newly stored sync_once message for its
// recipients but the sender.
func (f *fsm) enqueueSyncOnce(m *Message, recipients []string) {
	if !m.Header.SyncOnce {
		return
	}
	for _, uid := range recipients {
		if uid != m.FromUID {
			f.put(syncQueueKey(f.slot, uid, m.Channel, m.Seq), nil)
		}
	}
}

// applySyncAck drops c.UID's queued entries of c.Ch with seqs 1..c.Seq.
func (f *fsm) applySyncAck(c *Command) {
	lo := syncQueueKey(f.slot, c.UID, c.Ch, 0)
	hi := prefixEnd(appendChannel(syncQueuePrefix(f.slot, c.UID), c.Ch))
	if c.Seq < math.MaxUint64 {
		hi = syncQueueKey(f.slot, c.UID, c.Ch, c.Seq+1)
	}
	if err := f.b.DeleteRange(lo, hi, nil); err != nil {
		panic("node: batch delete range: " + err.Error())
	}
}

// SyncQueue lists uid's queued sync_once messages in this slot, each
// channel's in seq order, at most limit of them.
func (m *Machine) SyncQueue(r pebble.Reader, uid string, limit int) []*Message {
	prefix := syncQueuePrefix(m.slot, uid)
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		panic("node: iterator: " + err.Error())
	}
	defer it.Close()
	var out []*Message
	for ok := it.First(); ok && len(out) < limit; ok = it.Next() {
		rest := it.Key()[len(prefix):]
		var ch ChannelKey
		if len(rest) < 8 || !parseChannel(rest[:len(rest)-8], &ch) {
			panic("node: corrupt sync queue key")
		}
		if msg := ReadMessage(r, m.slot, ch, binary.BigEndian.Uint64(rest[len(rest)-8:])); msg != nil {
			out = append(out, msg)
		}
	}
	return out
}

// parseChannel is the inverse of appendChannel for b, which holds exactly
// one channel key.
func parseChannel(b []byte, ch *ChannelKey) bool {
	if len(b) < 2 || b[len(b)-1] != 0 {
		return false
	}
	*ch = ChannelKey{Type: proto.ChannelType(b[0]), ID: string(b[1 : len(b)-1])}
	return true
}
