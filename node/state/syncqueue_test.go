package state

import (
	"slices"
	"testing"

	"github.com/cockroachdb/pebble/v2"
)

func (m *memFSM) sendSyncOnce(ch ChannelKey, from, cmn string, atMs int64) Result {
	return m.f.apply(&Command{Op: OpSend, AtMs: atMs, Ch: ch,
		Send: &SendCmd{From: from, ClientMsgNo: cmn, Header: Header{SyncOnce: true}, Payload: []byte(cmn)}})
}

func queuedSeqs(r pebble.Reader, slot int, uid string) []uint64 {
	var out []uint64
	for _, m := range (&Machine{slot: slot}).SyncQueue(r, uid, 1000) {
		out = append(out, m.Seq)
	}
	return out
}

func TestSyncOnceMessagesAreQueuedForEveryRecipientButTheSender(t *testing.T) {
	m := newMemFSM(t, openMemDB(t), 0, 0)
	defer m.close()
	m.subAdd(testGroup, false, "a", "b", "c")
	m.sendSyncOnce(testGroup, "a", "c1", 1000)
	m.send(testGroup, "a", "plain", 2000) // not sync_once: not queued
	m.sendSyncOnce(testGroup, "b", "c2", 3000)
	m.commit(t)
	for uid, want := range map[string][]uint64{"a": {3}, "b": {1}, "c": {1, 3}} {
		if got := queuedSeqs(m.db, 0, uid); !slices.Equal(got, want) {
			t.Errorf("%s's queue: seqs %v, want %v", uid, got, want)
		}
	}
	// A repeat within the dedupe window stores nothing and queues nothing.
	m.f.dedupeWindowMs = 60_000
	m.sendSyncOnce(testGroup, "a", "c1", 4000)
	m.commit(t)
	if got := queuedSeqs(m.db, 0, "c"); !slices.Equal(got, []uint64{1, 3}) {
		t.Errorf("after a repeat, c's queue: %v", got)
	}
}

func TestSyncAckDropsTheChannelsEntriesUpToItsSeqAndNoOthers(t *testing.T) {
	m := newMemFSM(t, openMemDB(t), 0, 0)
	defer m.close()
	other := ChannelKey{Type: testGroup.Type, ID: "g2"}
	m.subAdd(testGroup, false, "a", "b")
	m.subAdd(other, false, "a", "b")
	for i, cmn := range []string{"1", "2", "3"} {
		m.sendSyncOnce(testGroup, "a", cmn, int64(i))
	}
	m.sendSyncOnce(other, "a", "x", 10)
	m.f.apply(&Command{Op: OpSyncAck, UID: "b", Ch: testGroup, Seq: 2})
	m.commit(t)
	msgs := (&Machine{slot: 0}).SyncQueue(m.db, "b", 1000)
	var got []string
	for _, msg := range msgs {
		got = append(got, msg.Channel.ID+"/"+msg.ClientMsgNo)
	}
	if want := []string{"g/3", "g2/x"}; !slices.Equal(got, want) {
		t.Fatalf("b's queue after ack of g up to 2: %v, want %v", got, want)
	}
	m.f.apply(&Command{Op: OpSyncAck, UID: "b", Ch: testGroup, Seq: ^uint64(0)})
	m.commit(t)
	if got := queuedSeqs(m.db, 0, "b"); !slices.Equal(got, []uint64{1}) {
		t.Fatalf("after acking all of g: %v, want only g2's seq 1", got)
	}
	if got := (&Machine{slot: 0}).SyncQueue(m.db, "b", 0); len(got) != 0 {
		t.Fatalf("limit 0 returned %d", len(got))
	}
}

func TestTheSyncQueueTravelsInTheSlotsSnapshot(t *testing.T) {
	m := newMemFSM(t, openMemDB(t), 3, 0)
	defer m.close()
	m.subAdd(testGroup, false, "a", "b")
	m.sendSyncOnce(testGroup, "a", "c1", 1)
	m.commit(t)
	dst := memDB(t)
	b := dst.NewBatch()
	if err := LoadSlot(b, 3, DumpSlot(m.db, 3)); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(nil); err != nil {
		t.Fatal(err)
	}
	if got := queuedSeqs(dst, 3, "b"); !slices.Equal(got, []uint64{1}) {
		t.Fatalf("b's queue restored from the snapshot: %v", got)
	}
}
