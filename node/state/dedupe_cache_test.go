package state

import (
	"fmt"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/jindou-im/jindou/node/proto"
	"pgregory.net/rapid"
)

// The dedupe cache answers every lookup as the store does, hits and misses,
// after random sends (repeats within and past the window, senders and
// channel ids with NUL bytes that write under other pairs' prefixes) and
// random restarts that start the cache cold over a store it did not fill.
func TestDedupeCacheAgreesWithTheStore(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		db := openMemDB(t)
		defer db.Close()
		m := NewMachine(0, time.Second)
		froms := []string{"u1", "u2", "u1\x00u2", "u1\x00"}
		chans := []ChannelKey{{Type: proto.ChannelGroup, ID: "g"}, {Type: proto.ChannelGroup, ID: "g\x00u1"}, testPerson}
		cmns := []string{"a", "b", "u2\x00a", "\x00a"}
		for range rapid.IntRange(1, 10).Draw(t, "batches") {
			if rapid.IntRange(0, 4).Draw(t, "restart") == 0 {
				m = NewMachine(0, time.Second)
			}
			b := db.NewIndexedBatch()
			for range rapid.IntRange(1, 6).Draw(t, "sends") {
				m.Apply(b, &Command{Op: OpSend, Ch: rapid.SampledFrom(chans).Draw(t, "ch"),
					AtMs: rapid.Int64Range(MessageIDEpochMs, MessageIDEpochMs+3000).Draw(t, "at"),
					Send: &SendCmd{From: rapid.SampledFrom(froms).Draw(t, "from"), ClientMsgNo: rapid.SampledFrom(cmns).Draw(t, "cmn"), Payload: []byte("x")}})
			}
			m.FinishBatch(b)
			if err := b.Commit(pebble.NoSync); err != nil {
				t.Fatal(err)
			}
			m.CheckCache(db)
			for _, ch := range chans {
				for _, from := range froms {
					for _, cmn := range cmns {
						key := dedupeKey(0, ch, from, cmn)
						got, gotOK := m.cache.dedupeLookup(db, 0, ch, from, cmn, key)
						want, wantOK := readDedupe(db, key)
						if got != want || gotOK != wantOK {
							t.Fatalf("dedupe %q of %s from %q: cache %+v %v, store %+v %v", cmn, ch, from, got, gotOK, want, wantOK)
						}
					}
				}
			}
		}
	})
}

// A pair with more records than the cache keeps is read from the store,
// whether it had them before the cache first saw it (maxDedupeScan) or
// grew past maxDedupePair through the cache; repeats are found either way.
func TestDedupeCacheFallsBackForLargePairs(t *testing.T) {
	db := openMemDB(t)
	defer db.Close()
	m := NewMachine(0, time.Hour)
	send := func(i int) Result {
		b := db.NewIndexedBatch()
		res := m.Apply(b, &Command{Op: OpSend, Ch: testPerson, AtMs: MessageIDEpochMs + int64(i),
			Send: &SendCmd{From: "u1", ClientMsgNo: fmt.Sprint("c", i), Payload: []byte("x")}})
		m.FinishBatch(b)
		if err := b.Commit(pebble.NoSync); err != nil {
			t.Fatal(err)
		}
		return res
	}
	pair := dedupePair{testPerson, "u1"}
	for i := range maxDedupePair + 1 {
		send(i)
	}
	if set, ok := m.cache.dedupes[pair]; !ok || set != nil {
		t.Fatalf("a pair grown past %d records is cached with %d", maxDedupePair, len(set))
	}
	if res := send(3); !res.Duplicate || res.Msg.Seq != 4 {
		t.Fatalf("repeat of c3 in a large pair: %+v", res)
	}
	m = NewMachine(0, time.Hour) // cold: the store has more than maxDedupeScan
	if res := send(7); !res.Duplicate || res.Msg.Seq != 8 {
		t.Fatalf("repeat of c7 after a restart: %+v", res)
	}
	if set, ok := m.cache.dedupes[pair]; !ok || set != nil {
		t.Fatalf("a pair of more than %d stored records is cached with %d", maxDedupeScan, len(set))
	}
	if res := send(maxDedupePair + 5); res.Duplicate {
		t.Fatalf("a new client_msg_no of a large pair is a duplicate: %+v", res)
	}
	m.CheckCache(db)
}
