package state

// Message ids. One layout for every message, stored or not (no_persist):
//
//	milliseconds since MessageIDEpochMs << 22 | slot << 12 | counter
//
// 41 bits of milliseconds last until 2093; 10 bits of slot (MaxSlots); 12
// bits of counter, 4096 ids per slot and millisecond. Ids are positive,
// increase within a slot even when a proposer's clock goes back (the
// millisecond then advances past the last one given), and are unique
// across the slots of a cluster.

// MessageIDEpochMs is the origin of message ids' milliseconds (2024-01-01
// UTC).
const MessageIDEpochMs = 1704067200000

// MaxSlots is how many slots the id layout has room for.
const MaxSlots = 1 << slotBits

const (
	counterBits = 12
	slotBits    = 10
	maxCounter  = 1<<counterBits - 1
)

// NextMessageID is the id after last for a message of slot proposed at
// atMs (unix milliseconds): atMs's millisecond with counter 0 if that is
// later than last's, else last's successor.
func NextMessageID(last int64, slot int, atMs int64) int64 {
	ms := max(atMs-MessageIDEpochMs, 0)
	lastMs, n := last>>(slotBits+counterBits), last&maxCounter
	switch {
	case ms > lastMs:
		n = 0
	case n < maxCounter:
		ms, n = lastMs, n+1
	default:
		ms, n = lastMs+1, 0
	}
	return ms<<(slotBits+counterBits) | int64(slot)<<counterBits | n
}

// SlotOfMessageID is the slot field of a message id.
func SlotOfMessageID(id int64) int { return int(id>>counterBits) & (MaxSlots - 1) }
