package node

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"go.etcd.io/raft/v3"
	pb "go.etcd.io/raft/v3/raftpb"
	gproto "google.golang.org/protobuf/proto"
)

// A slot's raft state on disk, in the raft store: its HardState, its
// entries and its configuration; and in the state store, the applied index
// (written with the applied state, unsynced: it can always be recomputed
// from the log).
//
// Only entries and the HardState are synced before anything depends on
// them; that is the durability every acknowledgement rests on.

func confStateKey(slot int) []byte { return append(slotPrefix('r', slot), 'c') }

// snapshotKey holds the index and term (u64 each) up to which the slot's log
// was compacted: the entries at and below it are applied, durably, and
// deleted.
func snapshotKey(slot int) []byte { return append(slotPrefix('r', slot), 's') }

// slotDisk is what loadSlot found on disk.
type slotDisk struct {
	storage *raft.MemoryStorage
	applied uint64
	// fresh: nothing was stored; the slot starts with the given voters.
	fresh bool
}

// loadSlot rebuilds a slot's raft storage from the store, or makes a fresh
// one whose configuration is voters.
func loadSlot(raftDB, stateDB *pebble.DB, slot int, voters []uint64) (slotDisk, error) {
	db := raftDB
	ms := raft.NewMemoryStorage()
	cs := &pb.ConfState{Voters: voters}
	v, ok := getValue(db, confStateKey(slot))
	fresh := !ok
	if ok {
		cs = &pb.ConfState{}
		if err := gproto.Unmarshal(v, cs); err != nil {
			return slotDisk{}, fmt.Errorf("slot %d conf state: %w", slot, err)
		}
	}
	var snapIndex, snapTerm uint64
	if v, ok := getValue(db, snapshotKey(slot)); ok {
		snapIndex, snapTerm = u64(v[:8]), u64(v[8:])
	}
	meta := &pb.SnapshotMetadata{ConfState: cs, Index: new(snapIndex), Term: new(snapTerm)}
	if err := ms.ApplySnapshot(&pb.Snapshot{Metadata: meta}); err != nil {
		return slotDisk{}, err
	}
	var applied uint64
	if v, ok := getValue(stateDB, appliedKey(slot)); ok {
		applied = u64(v)
	}
	var ents []*pb.Entry
	var bad error
	prefix := append(slotPrefix('r', slot), 'e')
	scan(db, prefix, func(_, v []byte) {
		e := &pb.Entry{}
		if err := gproto.Unmarshal(v, e); err != nil && bad == nil {
			bad = fmt.Errorf("slot %d entry: %w", slot, err)
		}
		ents = append(ents, e)
	})
	if bad != nil {
		return slotDisk{}, bad
	}
	if err := ms.Append(ents); err != nil {
		return slotDisk{}, fmt.Errorf("slot %d entries: %w", slot, err)
	}
	if v, ok := getValue(db, hardStateKey(slot)); ok {
		hs := &pb.HardState{}
		if err := gproto.Unmarshal(v, hs); err != nil {
			return slotDisk{}, fmt.Errorf("slot %d hard state: %w", slot, err)
		}
		// The commit index is written unsynced, and the applied state lives
		// in another store: a crash may leave the commit index below the
		// compacted prefix or below what was applied. Both are committed
		// (only committed entries are applied, and they are in the synced
		// log), so the commit index is raised to them.
		last, _ := ms.LastIndex()
		if c := min(max(hs.GetCommit(), snapIndex, applied), last); c > hs.GetCommit() {
			hs.Commit = new(c)
		}
		if err := ms.SetHardState(hs); err != nil {
			return slotDisk{}, err
		}
	}
	return slotDisk{storage: ms, applied: applied, fresh: fresh}, nil
}

// persistReady writes what a Ready asks to make durable into b: new
// entries (deleting any tail after them that a new leader replaced: the
// stored log ended at prevLast), and the HardState.
func persistReady(b *pebble.Batch, slot int, rd *raft.Ready, prevLast uint64, fresh bool, cs *pb.ConfState) {
	if fresh {
		mustSet(b, confStateKey(slot), marshal(cs))
	}
	if n := len(rd.Entries); n > 0 {
		for _, e := range rd.Entries {
			mustSet(b, raftEntryKey(slot, e.GetIndex()), marshal(e))
		}
		// A new leader's entries replace everything after them. (A range
		// deletion only when needed: Pebble's reads pay for each one.)
		if last := rd.Entries[n-1].GetIndex(); last < prevLast {
			if err := b.DeleteRange(raftEntryKey(slot, last+1), raftEntryKey(slot, prevLast+1), nil); err != nil {
				panic(err)
			}
		}
	}
	if rd.HardState != nil && !raft.IsEmptyHardState(rd.HardState) {
		mustSet(b, hardStateKey(slot), marshal(rd.HardState))
	}
}

func marshal(m gproto.Message) []byte {
	b, err := gproto.Marshal(m)
	if err != nil {
		panic(fmt.Sprintf("node: marshal %T: %v", m, err))
	}
	return b
}

func mustSet(b *pebble.Batch, k, v []byte) {
	if err := b.Set(k, v, nil); err != nil {
		panic(fmt.Sprintf("node: batch set: %v", err))
	}
}

// A raft message between nodes is its slot (u16) followed by the message.

func encodeRaftMsg(slot int, m *pb.Message) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(slot)), marshal(m)...)
}

// errShortRaftMsg is a peer message too short to name its slot.
var errShortRaftMsg = errors.New("node: raft message without its slot")

func decodeRaftMsg(b []byte) (slot int, m *pb.Message, err error) {
	if len(b) < 2 {
		return 0, nil, errShortRaftMsg
	}
	m = &pb.Message{}
	if err := gproto.Unmarshal(b[2:], m); err != nil {
		return 0, nil, err
	}
	return int(binary.BigEndian.Uint16(b)), m, nil
}

func unmarshalConfChange(e *pb.Entry, cc *pb.ConfChangeV2) error {
	if e.GetType() == pb.EntryType_EntryConfChangeV2 {
		return gproto.Unmarshal(e.GetData(), cc)
	}
	var v1 pb.ConfChange
	if err := gproto.Unmarshal(e.GetData(), &v1); err != nil {
		return err
	}
	*cc = *v1.AsV2()
	return nil
}

func be64(v uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return b[:]
}
