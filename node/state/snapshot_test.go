package state

import (
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

func memDB(t *testing.T) *pebble.DB {
	t.Helper()
	db, err := pebble.Open("", &pebble.Options{FS: vfs.NewMem()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func TestSnapshotReplacesTheSlotsStateAndNothingElse(t *testing.T) {
	src, dst := memDB(t), memDB(t)
	for _, kv := range [][2]string{{"a", "1"}, {"b", "2"}} {
		if err := src.Set(append(tableKey(3, tblChannel), kv[0]...), []byte(kv[1]), nil); err != nil {
			t.Fatal(err)
		}
	}
	// dst holds a stale key of slot 3, and a key of slot 4.
	stale, other := append(tableKey(3, tblChannel), "stale"...), append(tableKey(4, tblChannel), "keep"...)
	for _, k := range [][]byte{stale, other} {
		if err := dst.Set(k, []byte("x"), nil); err != nil {
			t.Fatal(err)
		}
	}
	b := dst.NewBatch()
	if err := LoadSlot(b, 3, DumpSlot(src, 3)); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(nil); err != nil {
		t.Fatal(err)
	}
	if SlotDigest(dst, 3) != SlotDigest(src, 3) {
		t.Fatal("slot 3 differs from its snapshot's source")
	}
	if _, ok := GetValue(dst, stale); ok {
		t.Fatal("a key the snapshot does not hold survived it")
	}
	if _, ok := GetValue(dst, other); !ok {
		t.Fatal("the snapshot of slot 3 deleted a key of slot 4")
	}
}

func TestSnapshotWithAKeyOfAnotherSlotIsRefused(t *testing.T) {
	src, dst := memDB(t), memDB(t)
	if err := src.Set(append(tableKey(4, tblChannel), "x"...), []byte("1"), nil); err != nil {
		t.Fatal(err)
	}
	if err := LoadSlot(dst.NewBatch(), 3, DumpSlot(src, 4)); err == nil {
		t.Fatal("a snapshot of slot 4 loaded into slot 3")
	}
	for _, bad := range [][]byte{nil, {2}, {snapshotFormat, 5, 'a'}} {
		if err := LoadSlot(dst.NewBatch(), 3, bad); err == nil {
			t.Fatalf("snapshot %v loaded", bad)
		}
	}
}

func FuzzLoadSlot(f *testing.F) {
	f.Add([]byte{snapshotFormat})
	f.Add([]byte{snapshotFormat, 3, 'd', 0, 3, 1, 'v'})
	f.Fuzz(func(t *testing.T, data []byte) {
		db := memDB(t)
		_ = LoadSlot(db.NewBatch(), 3, data) // never panics
	})
}
