package state

import "encoding/binary"

// The Pebble key space, of both stores. Every key starts with a one-byte
// space and the owning slot, so that a slot's data can later be moved or
// snapshotted as a range.
//
// The raft store (<data_dir>/raft):
//
//	'r' slot 'h'                 raft HardState of the slot
//	'r' slot 'e' index           raft entry
//	'r' slot 'c'                 the slot's raft configuration (ConfState)
//	'r' slot 's'                 index and term up to which the log was compacted
//
// The state store (<data_dir>/state):
//
//	'a' slot                     applied index of the slot
//	'a' slot 'c'                 the slot's raft configuration as of that index
//	'd' slot table ...           applied state, tables below
//
// Identifiers (uids, channel ids) never contain NUL (ValidUID,
// ValidChannelID), so NUL terminates them inside keys.
const (
	tblChannel      = 'i' // chkey → ChannelRecord
	tblSubscriber   = 's' // chkey uid → ""
	tblBlacklist    = 'b' // chkey uid → ""
	tblWhitelist    = 'w' // chkey uid → ""
	tblMessage      = 'm' // chkey seq → Message
	tblDedupe       = 'x' // chkey from NUL client_msg_no → dedupeRecord
	tblConversation = 'v' // uid NUL chkey → convRecord
	tblToken        = 't' // uid NUL flag → tokenRecord
	tblSystemUID    = 'y' // uid → "" (slot 0 only)
	tblSlotMeta     = 'g' // → slotMeta
	tblOutbox       = 'o' // message id (u64) → outboxRecord (webhook.go)
	tblCluster      = 'C' // → the cluster table (the controller group only; node/cluster.go)
	// tblClientMsgNo = 'n' (lookup.go): chkey client_msg_no → seq
	// tblSyncQueue = 'q' (syncqueue.go); tblEventSeq = 'k', tblEventState
	// = 'e', tblEventID = 'f' (events.go)
)

func slotPrefix(space byte, slot int) []byte { return appendSlotPrefix(nil, space, slot) }

// The append forms build a key into a caller's buffer: the send path
// builds its keys into scratch buffers that Pebble copies from.
func appendSlotPrefix(dst []byte, space byte, slot int) []byte {
	return binary.BigEndian.AppendUint16(append(dst, space), uint16(slot))
}

func appendTableKey(dst []byte, slot int, table byte) []byte {
	return append(appendSlotPrefix(dst, 'd', slot), table)
}

// HardStateKey holds the slot's raft HardState.
func HardStateKey(slot int) []byte { return append(slotPrefix('r', slot), 'h') }

// RaftEntryKey holds the slot's raft entry at index.
func RaftEntryKey(slot int, index uint64) []byte { return AppendRaftEntryKey(nil, slot, index) }

// AppendRaftEntryKey appends RaftEntryKey(slot, index) to dst.
func AppendRaftEntryKey(dst []byte, slot int, index uint64) []byte {
	return binary.BigEndian.AppendUint64(append(appendSlotPrefix(dst, 'r', slot), 'e'), index)
}

// AppliedKey holds the index of the slot's last applied entry (in the
// state store, written with the applied state).
func AppliedKey(slot int) []byte { return slotPrefix('a', slot) }

func tableKey(slot int, table byte) []byte { return appendTableKey(nil, slot, table) }

// appendChannel appends a channel key: type, id, NUL.
func appendChannel(b []byte, k ChannelKey) []byte {
	b = append(b, byte(k.Type))
	b = append(b, k.ID...)
	return append(b, 0)
}

func channelKey(slot int, k ChannelKey) []byte {
	return appendChannel(tableKey(slot, tblChannel), k)
}

// memberKey is the key of uid in one of a channel's uid sets.
func memberKey(slot int, table byte, k ChannelKey, uid string) []byte {
	return append(appendChannel(tableKey(slot, table), k), uid...)
}

func memberPrefix(slot int, table byte, k ChannelKey) []byte {
	return appendChannel(tableKey(slot, table), k)
}

func messageKey(slot int, k ChannelKey, seq uint64) []byte {
	return appendMessageKey(nil, slot, k, seq)
}

func appendMessageKey(dst []byte, slot int, k ChannelKey, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(appendChannel(appendTableKey(dst, slot, tblMessage), k), seq)
}

func dedupeKey(slot int, k ChannelKey, from, clientMsgNo string) []byte {
	return appendDedupeKey(nil, slot, k, from, clientMsgNo)
}

func appendDedupeKey(dst []byte, slot int, k ChannelKey, from, clientMsgNo string) []byte {
	b := append(appendChannel(appendTableKey(dst, slot, tblDedupe), k), from...)
	return append(append(b, 0), clientMsgNo...)
}

func conversationPrefix(slot int, uid string) []byte {
	return append(append(tableKey(slot, tblConversation), uid...), 0)
}

func conversationKey(slot int, uid string, k ChannelKey) []byte {
	return appendChannel(conversationPrefix(slot, uid), k)
}

func tokenKey(slot int, uid string, flag uint8) []byte {
	return append(append(append(tableKey(slot, tblToken), uid...), 0), flag)
}

func systemUIDKey(uid string) []byte { return append(tableKey(0, tblSystemUID), uid...) }

func slotMetaKey(slot int) []byte { return tableKey(slot, tblSlotMeta) }

// prefixEnd is the first key after every key with the given prefix.
func prefixEnd(prefix []byte) []byte {
	end := append([]byte(nil), prefix...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil
}

// RaftEntryPrefix is the prefix of every raft entry key of slot.
func RaftEntryPrefix(slot int) []byte { return append(slotPrefix('r', slot), 'e') }

// ConfStateKey holds the slot's raft configuration.
func ConfStateKey(slot int) []byte { return append(slotPrefix('r', slot), 'c') }

// AppliedConfKey holds the slot's raft configuration as of its applied
// index, written in the same batch as AppliedKey, so that the two agree
// after any crash.
func AppliedConfKey(slot int) []byte { return append(slotPrefix('a', slot), 'c') }

// SlotSpan is the key range [lo, hi) of every key of slot in one space
// ('a', 'd' of the state store, 'r' of the raft store).
func SlotSpan(space byte, slot int) (lo, hi []byte) {
	lo = slotPrefix(space, slot)
	if slot == 1<<16-1 {
		return lo, []byte{space + 1}
	}
	return lo, slotPrefix(space, slot+1)
}

// ClusterTableKey holds the controller group's cluster table (its slot is
// the controller group's id).
func ClusterTableKey(slot int) []byte { return tableKey(slot, tblCluster) }

// SnapshotKey holds the index and term (u64 each) up to which the slot's
// log was compacted: the entries at and below it are applied, durably, and
// deleted.
func SnapshotKey(slot int) []byte { return append(slotPrefix('r', slot), 's') }

// EncodeSnapshot and DecodeSnapshot are SnapshotKey's value.
func EncodeSnapshot(index, term uint64) []byte {
	return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, index), term)
}

// DecodeSnapshot is the inverse of EncodeSnapshot.
func DecodeSnapshot(v []byte) (index, term uint64) {
	return binary.BigEndian.Uint64(v[:8]), binary.BigEndian.Uint64(v[8:])
}

// EncodeIndex and DecodeIndex are AppliedKey's value.
func EncodeIndex(index uint64) []byte { return binary.BigEndian.AppendUint64(nil, index) }

// DecodeIndex is the inverse of EncodeIndex.
func DecodeIndex(v []byte) uint64 { return binary.BigEndian.Uint64(v) }
