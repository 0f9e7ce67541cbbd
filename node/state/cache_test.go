package state

import (
	"slices"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/jindou-im/jindou/node/proto"
	"pgregory.net/rapid"
)

// The cache equals the store after every batch, whatever the commands: the
// member sets, cursors, channel records and id state a send reads from
// memory are exactly what Pebble holds (CheckCache panics otherwise), and
// the send rule's reads through the cache agree with the store's.
func TestCachedMachineAgreesWithTheStore(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		db := openMemDB(t)
		defer db.Close()
		m := NewMachine(0, time.Second)
		uids := []string{"u1", "u2", "u3", "u4"}
		chans := []ChannelKey{{Type: proto.ChannelGroup, ID: "g1"}, {Type: proto.ChannelGroup, ID: "g2"}, testPerson}
		for range rapid.IntRange(1, 12).Draw(t, "batches") {
			b := db.NewIndexedBatch()
			for range rapid.IntRange(1, 5).Draw(t, "commands") {
				m.Apply(b, drawCommand(t, uids, chans))
			}
			m.FinishBatch(b)
			if err := b.Commit(pebble.NoSync); err != nil {
				t.Fatal(err)
			}
			m.CheckCache(db)
			for _, ch := range chans {
				for _, table := range []byte{tblSubscriber, Blacklist, Whitelist} {
					for _, u := range uids {
						if got, want := m.IsMember(db, table, ch, u), ReadIsMember(db, 0, table, ch, u); got != want {
							t.Fatalf("%s in %c of %s: cache says %v, store %v", u, table, ch, got, want)
						}
					}
				}
				if ch.Type == proto.ChannelGroup {
					if got, want := m.Recipients(db, ch), readMembers(db, memberPrefix(0, tblSubscriber, ch)); !slices.Equal(got, want) {
						t.Fatalf("recipients of %s: cache %v, store %v", ch, got, want)
					}
				}
			}
		}
	})
}

func drawCommand(t *rapid.T, uids []string, chans []ChannelKey) *Command {
	ch := rapid.SampledFrom(chans).Draw(t, "ch")
	some := rapid.SliceOfDistinct(rapid.SampledFrom(uids), func(s string) string { return s }).Draw(t, "uids")
	switch rapid.IntRange(0, 6).Draw(t, "op") {
	case 0:
		return &Command{Op: OpSubAdd, Ch: ch, UIDs: some, Reset: rapid.Bool().Draw(t, "reset")}
	case 1:
		return &Command{Op: OpSubRemove, Ch: ch, UIDs: some}
	case 2:
		return &Command{Op: OpList, Ch: ch, Table: rapid.SampledFrom([]byte{Blacklist, Whitelist}).Draw(t, "list"),
			ListOp: rapid.SampledFrom([]string{ListAdd, ListSet, ListRemove, ListRemoveAll}).Draw(t, "lop"), UIDs: some}
	case 3:
		return &Command{Op: OpChannelDelete, Ch: ch}
	case 4:
		return &Command{Op: OpConvClear, Ch: ch, UID: rapid.SampledFrom(uids).Draw(t, "uid")}
	case 5:
		return &Command{Op: OpChannel, Ch: ch, UIDs: some, Reset: rapid.Bool().Draw(t, "reset"), Info: &ChannelInfo{}}
	}
	from := rapid.SampledFrom(uids).Draw(t, "from")
	return &Command{Op: OpSend, Ch: ch, AtMs: rapid.Int64Range(MessageIDEpochMs, MessageIDEpochMs+5000).Draw(t, "at"),
		Send: &SendCmd{From: from, ClientMsgNo: rapid.SampledFrom([]string{"", "a", "b"}).Draw(t, "cmn"), Payload: []byte("x")}}
}
