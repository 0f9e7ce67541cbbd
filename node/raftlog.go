package node

import (
	"encoding/binary"
	"fmt"
	"sort"

	"github.com/cockroachdb/pebble/v2"
	"github.com/jindou-im/jindou/node/state"
	"go.etcd.io/raft/v3"
	pb "go.etcd.io/raft/v3/raftpb"
	gproto "google.golang.org/protobuf/proto"
)

// logStorage is a slot's raft log as etcd raft's Storage sees it, kept in
// the raft store rather than in memory. raft.MemoryStorage holds every
// entry of the uncompacted log with its payload (up to CompactLogAfter of
// them per slot: with large messages, gigabytes); logStorage holds only
// what raft asks about all the time: the terms, as runs of equal terms
// (a few per leadership), and the newest entries in a cache of at most
// maxCacheBytes, where a slot's reads almost always fall (the entries just
// appended are the ones committed, applied and sent to followers next).
// Entries below the cache are read from Pebble.
//
// Its methods have MemoryStorage's semantics exactly, errors and panics
// included (raftlog_test.go checks it against MemoryStorage as a model),
// with one rule of its own: every entry appended must already be in the
// raft store (the slot loop appends after the entries' write is durable,
// ready.go), and the store's entries are dropped by the slot loop's own
// writes (a replaced tail, a compaction, a snapshot) before the storage
// forgets them. A read that finds an entry already gone (a compaction is
// durable, not yet told to Compact) answers ErrCompacted, as for an entry
// compacted: raft then sends a snapshot.
type logStorage struct {
	db   *pebble.DB
	slot int

	hard *pb.HardState
	snap *pb.Snapshot
	// offset is the index before the first entry (the compacted prefix's
	// end), offsetTerm its term; last is the last entry's index.
	offset, offsetTerm, last uint64
	// terms are the runs of equal terms of (offset, last], by first index.
	terms []termRun
	// cache are the newest entries, contiguous and ending at last;
	// cacheBytes their encoded size.
	cache         []*pb.Entry
	cacheBytes    int
	maxCacheBytes int
	// diskReads counts Entries calls that read the store.
	diskReads int64
}

// termRun says that the entries from index on (up to the next run) have
// term.
type termRun struct{ index, term uint64 }

func newLogStorage(db *pebble.DB, slot, maxCacheBytes int) *logStorage {
	return &logStorage{db: db, slot: slot, hard: &pb.HardState{}, snap: pb.EnsureSnapshot(nil), maxCacheBytes: maxCacheBytes}
}

// InitialState is the HardState and the snapshot's configuration.
func (ls *logStorage) InitialState() (*pb.HardState, *pb.ConfState, error) {
	return ls.hard, pb.EnsureConfState(ls.snap.GetMetadata().GetConfState()), nil
}

// SetHardState records the HardState (the caller made it durable).
func (ls *logStorage) SetHardState(st *pb.HardState) error {
	ls.hard = st
	return nil
}

// FirstIndex is the first entry's index (offset+1, even when the log is
// empty).
func (ls *logStorage) FirstIndex() (uint64, error) { return ls.offset + 1, nil }

// LastIndex is the last entry's index (offset when the log is empty).
func (ls *logStorage) LastIndex() (uint64, error) { return ls.last, nil }

// Term is entry i's term; offset's is the compacted prefix's.
func (ls *logStorage) Term(i uint64) (uint64, error) {
	switch {
	case i < ls.offset:
		return 0, raft.ErrCompacted
	case i > ls.last:
		return 0, raft.ErrUnavailable
	case i == ls.offset:
		return ls.offsetTerm, nil
	}
	k := sort.Search(len(ls.terms), func(k int) bool { return ls.terms[k].index > i }) - 1
	return ls.terms[k].term, nil
}

// Snapshot is the last snapshot applied or created (slotStorage makes the
// ones raft sends from the applied state instead).
func (ls *logStorage) Snapshot() (*pb.Snapshot, error) {
	return gproto.CloneOf(ls.snap), nil
}

// Entries are the entries [lo, hi), at most maxSize bytes of them but at
// least one.
func (ls *logStorage) Entries(lo, hi, maxSize uint64) ([]*pb.Entry, error) {
	if lo <= ls.offset {
		return nil, raft.ErrCompacted
	}
	if hi > ls.last+1 {
		panic(fmt.Sprintf("node: entries' hi(%d) is out of bound lastindex(%d)", hi, ls.last))
	}
	if ls.last == ls.offset {
		return nil, raft.ErrUnavailable
	}
	if lo >= hi {
		return nil, nil
	}
	var out []*pb.Entry
	size := uint64(0)
	// add takes e unless the size limit stops it (the first always goes).
	add := func(e *pb.Entry) bool {
		size += uint64(gproto.Size(e))
		if len(out) > 0 && size > maxSize {
			return false
		}
		out = append(out, e)
		return true
	}
	cacheFirst := ls.last + 1 - uint64(len(ls.cache))
	if lo < cacheFirst {
		ls.diskReads++
		upTo := min(hi, cacheFirst)
		next, full, err := ls.read(lo, upTo, add)
		if err != nil || full || next < upTo {
			return out, err // the size limit, or the store lost the rest meanwhile: a prefix
		}
		lo = cacheFirst
	}
	for i := lo; i < hi; i++ {
		if !add(ls.cache[i-cacheFirst]) {
			break
		}
	}
	return out, nil
}

// read hands the entries [lo, hi) from the store to add until it refuses
// one (full) or an entry is missing; next is the index after the last one
// taken. None at all is ErrCompacted.
func (ls *logStorage) read(lo, hi uint64, add func(*pb.Entry) bool) (next uint64, full bool, err error) {
	it, err := ls.db.NewIter(&pebble.IterOptions{LowerBound: state.RaftEntryKey(ls.slot, lo), UpperBound: state.RaftEntryKey(ls.slot, hi)})
	if err != nil {
		panic(fmt.Sprintf("node: slot %d raft log iterator: %v", ls.slot, err))
	}
	defer it.Close()
	next = lo
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		if binary.BigEndian.Uint64(k[len(k)-8:]) != next {
			break
		}
		e := &pb.Entry{}
		if err := gproto.Unmarshal(it.Value(), e); err != nil {
			panic(fmt.Sprintf("node: slot %d raft entry %d: %v", ls.slot, next, err))
		}
		if !add(e) {
			return next, true, nil
		}
		next++
	}
	if next == lo {
		return next, false, raft.ErrCompacted
	}
	return next, false, nil
}

// ApplySnapshot makes the log start after snap, empty.
func (ls *logStorage) ApplySnapshot(snap *pb.Snapshot) error {
	snap = pb.EnsureSnapshot(snap)
	if cur := ls.snap.GetMetadata().GetIndex(); cur != 0 && cur >= snap.GetMetadata().GetIndex() {
		return raft.ErrSnapOutOfDate
	}
	ls.snap = gproto.CloneOf(snap)
	md := snap.GetMetadata()
	ls.offset, ls.offsetTerm, ls.last = md.GetIndex(), md.GetTerm(), md.GetIndex()
	ls.terms, ls.cache, ls.cacheBytes = nil, nil, 0
	return nil
}

// CreateSnapshot records a snapshot at i (the log is not compacted).
func (ls *logStorage) CreateSnapshot(i uint64, cs *pb.ConfState, data []byte) (*pb.Snapshot, error) {
	if i <= ls.snap.GetMetadata().GetIndex() {
		return nil, raft.ErrSnapOutOfDate
	}
	if i > ls.last {
		panic(fmt.Sprintf("node: snapshot %d is out of bound lastindex(%d)", i, ls.last))
	}
	term, err := ls.Term(i)
	if err != nil {
		panic(fmt.Sprintf("node: snapshot %d below the log (first %d)", i, ls.offset+1))
	}
	ls.snap = pb.EnsureSnapshot(ls.snap)
	ls.snap.Metadata.Index, ls.snap.Metadata.Term = new(i), new(term)
	if cs != nil {
		ls.snap.Metadata.ConfState = gproto.CloneOf(cs)
	}
	ls.snap.Data = data
	return gproto.CloneOf(ls.snap), nil
}

// Compact drops the entries up to and including ci.
func (ls *logStorage) Compact(ci uint64) error {
	if ci <= ls.offset {
		return raft.ErrCompacted
	}
	if ci > ls.last {
		panic(fmt.Sprintf("node: compact %d is out of bound lastindex(%d)", ci, ls.last))
	}
	term, _ := ls.Term(ci)
	ls.offset, ls.offsetTerm = ci, term
	if ci == ls.last {
		ls.terms = nil
	} else {
		// The run that holds ci+1 becomes the first, starting there.
		k := sort.Search(len(ls.terms), func(k int) bool { return ls.terms[k].index > ci+1 })
		ls.terms = ls.terms[k-1:]
		ls.terms[0].index = ci + 1
	}
	cacheFirst := ls.last + 1 - uint64(len(ls.cache))
	for len(ls.cache) > 0 && cacheFirst <= ci {
		ls.dropOldest()
		cacheFirst++
	}
	return nil
}

// Append adds entries after the log, replacing any tail they overlap
// (entries already compacted are skipped).
func (ls *logStorage) Append(entries []*pb.Entry) error {
	if len(entries) == 0 {
		return nil
	}
	first := ls.offset + 1
	if last := entries[0].GetIndex() + uint64(len(entries)) - 1; last < first {
		return nil
	}
	if first > entries[0].GetIndex() {
		entries = entries[first-entries[0].GetIndex():]
	}
	at := entries[0].GetIndex()
	if at > ls.last+1 {
		panic(fmt.Sprintf("node: missing log entry [last: %d, append at: %d]", ls.last, at))
	}
	ls.truncate(at - 1)
	for _, e := range entries {
		ls.push(e)
	}
	return nil
}

// truncate drops the entries after index.
func (ls *logStorage) truncate(index uint64) {
	if index >= ls.last {
		return
	}
	k := sort.Search(len(ls.terms), func(k int) bool { return ls.terms[k].index > index })
	ls.terms = ls.terms[:k]
	for len(ls.cache) > 0 && ls.last > index {
		e := ls.cache[len(ls.cache)-1]
		ls.cacheBytes -= gproto.Size(e)
		ls.cache = ls.cache[:len(ls.cache)-1]
		ls.last--
	}
	ls.last = index
}

// push adds e after the last entry, to the terms and the cache.
func (ls *logStorage) push(e *pb.Entry) {
	ls.last = e.GetIndex()
	if n := len(ls.terms); n == 0 || ls.terms[n-1].term != e.GetTerm() {
		ls.terms = append(ls.terms, termRun{index: e.GetIndex(), term: e.GetTerm()})
	}
	ls.cache = append(ls.cache, e)
	ls.cacheBytes += gproto.Size(e)
	for ls.cacheBytes > ls.maxCacheBytes && len(ls.cache) > 0 {
		ls.dropOldest()
	}
}

func (ls *logStorage) dropOldest() {
	ls.cacheBytes -= gproto.Size(ls.cache[0])
	ls.cache[0] = nil
	ls.cache = ls.cache[1:]
}
