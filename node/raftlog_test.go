package node

import (
	"errors"
	"fmt"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/jindou-im/jindou/node/state"
	"go.etcd.io/raft/v3"
	pb "go.etcd.io/raft/v3/raftpb"
	gproto "google.golang.org/protobuf/proto"
	"pgregory.net/rapid"
)

// logModel runs the same operations on a logStorage and on etcd raft's
// MemoryStorage, writing the raft store as the slot loop does (entries
// before Append, deletions before Compact and ApplySnapshot).
type logModel struct {
	t    *rapid.T
	db   *pebble.DB
	ls   *logStorage
	ms   *raft.MemoryStorage
	slot int
}

func openTestDB(t interface{ Fatal(...any) }) *pebble.DB {
	db, err := pebble.Open("raft", &pebble.Options{FS: vfs.NewMem()})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func (m *logModel) write(fn func(b *pebble.Batch)) {
	b := m.db.NewBatch()
	fn(b)
	if err := b.Commit(pebble.NoSync); err != nil {
		m.t.Fatal(err)
	}
}

func (m *logModel) bounds() (first, last uint64) {
	first, _ = m.ms.FirstIndex()
	last, _ = m.ms.LastIndex()
	return first, last
}

func (m *logModel) append(t *rapid.T) {
	first, last := m.bounds()
	at := rapid.Uint64Range(first-1, last+1).Draw(t, "at")
	n := rapid.IntRange(1, 6).Draw(t, "n")
	term := rapid.Uint64Range(1, 4).Draw(t, "term")
	var ents []*pb.Entry
	for i := range n {
		term += rapid.Uint64Range(0, 1).Draw(t, "term step")
		data := make([]byte, rapid.IntRange(0, 120).Draw(t, "size"))
		ents = append(ents, &pb.Entry{Index: new(at + uint64(i)), Term: new(term), Data: data})
	}
	if at < first { // below the log: the part already compacted is skipped
		ents = ents[min(int(first-at), len(ents)):]
		if len(ents) == 0 {
			return
		}
	}
	m.write(func(b *pebble.Batch) {
		for _, e := range ents {
			mustSet(b, state.RaftEntryKey(m.slot, e.GetIndex()), marshal(e))
		}
		if end := ents[len(ents)-1].GetIndex(); end < last {
			_ = b.DeleteRange(state.RaftEntryKey(m.slot, end+1), state.RaftEntryKey(m.slot, last+1), nil)
		}
	})
	m.same("Append", m.ls.Append(ents), m.ms.Append(ents))
}

func (m *logModel) compact(t *rapid.T) {
	first, last := m.bounds()
	ci := rapid.Uint64Range(first-1, last).Draw(t, "ci")
	if ci >= first {
		m.write(func(b *pebble.Batch) {
			_ = b.DeleteRange(state.RaftEntryKey(m.slot, 0), state.RaftEntryKey(m.slot, ci+1), nil)
		})
	}
	m.same("Compact", m.ls.Compact(ci), m.ms.Compact(ci))
}

func (m *logModel) applySnapshot(t *rapid.T) {
	_, last := m.bounds()
	snap, _ := m.ms.Snapshot()
	lo := snap.GetMetadata().GetIndex()
	idx := rapid.Uint64Range(lo, max(lo, last+8)).Draw(t, "snap index")
	s := &pb.Snapshot{Metadata: &pb.SnapshotMetadata{Index: new(idx), Term: new(rapid.Uint64Range(1, 9).Draw(t, "snap term")),
		ConfState: &pb.ConfState{Voters: []uint64{rapid.Uint64Range(1, 5).Draw(t, "voter")}}}}
	errM := m.ms.ApplySnapshot(s)
	if errM == nil {
		m.write(func(b *pebble.Batch) {
			_ = b.DeleteRange(state.RaftEntryKey(m.slot, 0), state.RaftEntryKey(m.slot, max(last, idx)+1), nil)
		})
	}
	m.same("ApplySnapshot", m.ls.ApplySnapshot(s), errM)
}

func (m *logModel) createSnapshot(t *rapid.T) {
	_, last := m.bounds()
	snap, _ := m.ms.Snapshot()
	lo := snap.GetMetadata().GetIndex()
	first, _ := m.ms.FirstIndex()
	i := rapid.Uint64Range(max(lo, first-1), max(lo, first-1, last)).Draw(t, "i")
	if i > last {
		return // both panic
	}
	cs := &pb.ConfState{Voters: []uint64{1, 2}}
	a, errA := m.ls.CreateSnapshot(i, cs, []byte("d"))
	b, errB := m.ms.CreateSnapshot(i, cs, []byte("d"))
	m.same("CreateSnapshot", errA, errB)
	if errA == nil && !gproto.Equal(a, b) {
		m.t.Fatalf("CreateSnapshot(%d): %v, model %v", i, a, b)
	}
}

func (m *logModel) entries(t *rapid.T) {
	first, last := m.bounds()
	lo := rapid.Uint64Range(first-1, last+1).Draw(t, "lo")
	hi := rapid.Uint64Range(max(lo, 1), last+1).Draw(t, "hi")
	if lo > hi {
		return
	}
	maxSize := rapid.Uint64Range(0, 600).Draw(t, "maxSize")
	got, errA := m.ls.Entries(lo, hi, maxSize)
	want, errB := m.ms.Entries(lo, hi, maxSize)
	m.same(fmt.Sprintf("Entries(%d, %d, %d)", lo, hi, maxSize), errA, errB)
	if len(got) != len(want) {
		m.t.Fatalf("Entries(%d, %d, %d): %d entries, model %d", lo, hi, maxSize, len(got), len(want))
	}
	for i := range got {
		if !gproto.Equal(got[i], want[i]) {
			m.t.Fatalf("Entries(%d, %d, %d)[%d]: %v, model %v", lo, hi, maxSize, i, got[i], want[i])
		}
	}
}

func (m *logModel) check(t *rapid.T) {
	first, last := m.bounds()
	if f, _ := m.ls.FirstIndex(); f != first {
		m.t.Fatalf("FirstIndex %d, model %d", f, first)
	}
	if l, _ := m.ls.LastIndex(); l != last {
		m.t.Fatalf("LastIndex %d, model %d", l, last)
	}
	for i := first - min(first, 2); i <= last+2; i++ {
		a, errA := m.ls.Term(i)
		b, errB := m.ms.Term(i)
		m.same(fmt.Sprintf("Term(%d)", i), errA, errB)
		if a != b {
			m.t.Fatalf("Term(%d) = %d, model %d", i, a, b)
		}
	}
	_, csA, _ := m.ls.InitialState()
	_, csB, _ := m.ms.InitialState()
	if !gproto.Equal(csA, csB) {
		m.t.Fatalf("InitialState conf %v, model %v", csA, csB)
	}
	sa, _ := m.ls.Snapshot()
	sb, _ := m.ms.Snapshot()
	if !gproto.Equal(sa, sb) {
		m.t.Fatalf("Snapshot %v, model %v", sa, sb)
	}
}

func (m *logModel) same(op string, a, b error) {
	if !errors.Is(a, b) && !(a == nil && b == nil) {
		m.t.Fatalf("%s: %v, model %v", op, a, b)
	}
}

// TestTheRaftLogStorageBehavesAsMemoryStorage: any sequence of appends
// (tails replaced), compactions, snapshots and reads gives the same answers
// as etcd raft's MemoryStorage, with a cache small enough that most reads
// go to the store.
func TestTheRaftLogStorageBehavesAsMemoryStorage(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		db := openTestDB(t)
		defer db.Close()
		m := &logModel{t: t, db: db, slot: 3, ms: raft.NewMemoryStorage(),
			ls: newLogStorage(db, 3, rapid.IntRange(0, 600).Draw(t, "cache bytes"))}
		t.Repeat(map[string]func(*rapid.T){
			"append":         m.append,
			"compact":        m.compact,
			"applySnapshot":  m.applySnapshot,
			"createSnapshot": m.createSnapshot,
			"entries":        m.entries,
			"":               m.check,
		})
	})
}

// TestTheRaftLogCacheIsBoundedAndMissesReadTheStore: a log of large
// entries holds at most the cache's bytes in memory, and reads below it
// come from the store.
func TestTheRaftLogCacheIsBoundedAndMissesReadTheStore(t *testing.T) {
	db := openTestDB(t)
	defer db.Close()
	ls := newLogStorage(db, 1, 64<<10)
	b := db.NewBatch()
	var ents []*pb.Entry
	for i := uint64(1); i <= 200; i++ {
		e := &pb.Entry{Index: new(i), Term: new(uint64(1)), Data: make([]byte, 16<<10)}
		mustSet(b, state.RaftEntryKey(1, i), marshal(e))
		ents = append(ents, e)
	}
	if err := b.Commit(pebble.NoSync); err != nil {
		t.Fatal(err)
	}
	if err := ls.Append(ents); err != nil {
		t.Fatal(err)
	}
	if ls.cacheBytes > 64<<10 || len(ls.cache) > 4 {
		t.Fatalf("cache holds %d entries, %d bytes: over its 64 KiB", len(ls.cache), ls.cacheBytes)
	}
	got, err := ls.Entries(1, 201, 1<<62)
	if err != nil || len(got) != 200 || got[0].GetIndex() != 1 || got[199].GetIndex() != 200 {
		t.Fatalf("Entries(1, 201): %d entries, %v", len(got), err)
	}
	if ls.diskReads != 1 {
		t.Fatalf("%d reads of the store, want 1", ls.diskReads)
	}
}
