package state

import (
	"testing"

	"github.com/jindou-im/jindou/node/proto"
	"pgregory.net/rapid"
)

func TestMessagesAreFoundByIDAndByClientMsgNo(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		db := openMemDB(t)
		m := newMemFSM(t, db, 3, 1)
		defer m.close()
		ch := ChannelKey{Type: proto.ChannelGroup, ID: "g"}
		other := ChannelKey{Type: proto.ChannelGroup, ID: "h"}
		n := rapid.IntRange(0, 40).Draw(t, "n")
		var ids []int64
		cmns := map[string]uint64{}
		for i := range n {
			target := ch
			if rapid.Bool().Draw(t, "other channel") {
				target = other
			}
			cmn := rapid.SampledFrom([]string{"", "a", "b", "c"}).Draw(t, "cmn")
			// atMs past the 1 ms dedupe window: a repeated client_msg_no is stored anew.
			res := m.send(target, "u", cmn, int64(10*(i+1)))
			if target == ch {
				ids = append(ids, res.Msg.MessageID)
				if cmn != "" {
					cmns[cmn] = res.Msg.Seq
				}
			}
		}
		m.commit(t)
		mach := &Machine{slot: 3}
		for i, id := range ids {
			if got := mach.MessageByID(db, ch, id); got == nil || got.Seq != uint64(i+1) {
				t.Fatalf("id %d: %+v, want seq %d", id, got, i+1)
			}
		}
		if mach.MessageByID(db, ch, -1) != nil || (len(ids) > 0 && mach.MessageByID(db, ch, ids[len(ids)-1]+1) != nil) {
			t.Fatal("found an id never given")
		}
		for _, cmn := range []string{"a", "b", "c"} {
			got := mach.MessageByClientMsgNo(db, ch, cmn)
			if want, ok := cmns[cmn]; ok != (got != nil) || (ok && got.Seq != want) {
				t.Fatalf("client_msg_no %q: %+v, want the latest, seq %d (%v)", cmn, got, want, ok)
			}
		}
	})
}
