package state

import (
	"fmt"
	"slices"
	"sort"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/jindou-im/jindou/node/proto"
	"pgregory.net/rapid"
)

// failer is what the fsm helpers need of *testing.T and *rapid.T.
type failer interface {
	Helper()
	Fatalf(format string, args ...any)
}

// memFSM is a state machine of one slot over a Pebble on an in-memory file
// system.
type memFSM struct {
	db *pebble.DB
	f  *fsm
}

// testPebbleLogger drops Pebble's informational logging.
type testPebbleLogger struct{}

func (testPebbleLogger) Infof(string, ...any) {}
func (testPebbleLogger) Errorf(format string, args ...any) {
	fmt.Printf("pebble: "+format+"\n", args...)
}
func (testPebbleLogger) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }

func openMemDB(t failer) *pebble.DB {
	t.Helper()
	db, err := pebble.Open("data", &pebble.Options{FS: vfs.NewMem(), Logger: testPebbleLogger{}})
	if err != nil {
		t.Fatalf("pebble.Open: %v", err)
	}
	return db
}

func newMemFSM(t failer, db *pebble.DB, slot int, windowMs int64) *memFSM {
	return &memFSM{db: db, f: &fsm{slot: slot, b: db.NewIndexedBatch(), dedupeWindowMs: windowMs}}
}

// commit makes the batch durable and starts a new one, so that later reads
// go through the DB rather than the batch.
func (m *memFSM) commit(t failer) {
	t.Helper()
	if err := m.f.b.Commit(pebble.NoSync); err != nil {
		t.Fatalf("commit: %v", err)
	}
	m.f.b.Close()
	m.f.b = m.db.NewIndexedBatch()
}

func (m *memFSM) close() {
	m.f.b.Close()
	m.db.Close()
}

func (m *memFSM) send(ch ChannelKey, from, cmn string, atMs int64) Result {
	return m.f.apply(&Command{Op: OpSend, AtMs: atMs, Ch: ch, Send: &SendCmd{From: from, ClientMsgNo: cmn, Payload: []byte(from + "/" + cmn)}})
}

var (
	testGroup  = ChannelKey{Type: proto.ChannelGroup, ID: "g"}
	testPerson = ChannelKey{Type: proto.ChannelPerson, ID: PersonChannelID("u1", "u2")}
)

// checkSeqsWithoutGaps verifies that the channel's messages are exactly
// seqs 1..LastSeq, each storing its own seq.
func (m *memFSM) checkSeqsWithoutGaps(t failer, ch ChannelKey, want uint64) {
	t.Helper()
	rec := m.f.channel(ch)
	if rec.LastSeq != want {
		t.Fatalf("%v: LastSeq %d, want %d", ch, rec.LastSeq, want)
	}
	msgs := ReadMessages(m.f.b, m.f.slot, ch, 0, want+5)
	if uint64(len(msgs)) != want {
		t.Fatalf("%v: %d stored messages, want %d", ch, len(msgs), want)
	}
	for i, msg := range msgs {
		if msg.Seq != uint64(i+1) || msg.Channel != ch {
			t.Fatalf("%v: message %d has seq %d channel %v", ch, i, msg.Seq, msg.Channel)
		}
	}
}

type dedupeKeyM struct {
	ch        ChannelKey
	from, cmn string
}

type dedupeEntry struct {
	seq  uint64
	id   int64
	atMs int64
}

func TestDedupeWindowMatchesModel(t *testing.T) {
	const window = 1000
	rapid.Check(t, func(t *rapid.T) {
		m := newMemFSM(t, openMemDB(t), rapid.IntRange(0, 1022).Draw(t, "slot"), window)
		defer m.close()
		now := int64(1_700_000_000_000)
		seen := map[dedupeKeyM]dedupeEntry{}
		lastSeq := map[ChannelKey]uint64{}
		ids := map[int64]bool{}
		var lastID int64

		t.Repeat(map[string]func(*rapid.T){
			"send": func(t *rapid.T) {
				ch := rapid.SampledFrom([]ChannelKey{testGroup, testPerson}).Draw(t, "ch")
				from := rapid.SampledFrom([]string{"u1", "u2"}).Draw(t, "from")
				cmn := rapid.SampledFrom([]string{"", "m1", "m2", "m3"}).Draw(t, "cmn")
				res := m.send(ch, from, cmn, now)
				if res.Msg == nil {
					t.Fatalf("send returned no message")
				}
				k := dedupeKeyM{ch, from, cmn}
				if e, ok := seen[k]; ok && cmn != "" && now-e.atMs < window {
					if !res.Duplicate || res.Msg.Seq != e.seq || res.Msg.MessageID != e.id {
						t.Fatalf("repeat of %v at +%dms: dup=%v seq=%d id=%d, want the original seq=%d id=%d",
							k, now-e.atMs, res.Duplicate, res.Msg.Seq, res.Msg.MessageID, e.seq, e.id)
					}
					if len(res.Recipients) != 0 {
						t.Fatalf("duplicate delivered again to %v", res.Recipients)
					}
					return
				}
				if res.Duplicate {
					e := seen[k]
					t.Fatalf("send of %v at +%dms (window %d) reported as a duplicate of seq %d", k, now-e.atMs, window, e.seq)
				}
				lastSeq[ch]++
				if res.Msg.Seq != lastSeq[ch] {
					t.Fatalf("%v: new message at seq %d, want %d", ch, res.Msg.Seq, lastSeq[ch])
				}
				if res.Msg.MessageID <= lastID || ids[res.Msg.MessageID] {
					t.Fatalf("message id %d after %d", res.Msg.MessageID, lastID)
				}
				lastID = res.Msg.MessageID
				ids[lastID] = true
				if res.Msg.FromUID != from || res.Msg.ClientMsgNo != cmn || res.Msg.Timestamp != int32(now/1000) {
					t.Fatalf("stored %+v", res.Msg)
				}
				if cmn != "" {
					seen[k] = dedupeEntry{res.Msg.Seq, res.Msg.MessageID, now}
				}
			},
			"advance": func(t *rapid.T) {
				now += rapid.SampledFrom([]int64{0, 1, window - 1, window, window + 1, 3 * window}).Draw(t, "dt")
			},
			"back": func(t *rapid.T) {
				now -= rapid.Int64Range(1, 2*window).Draw(t, "back")
			},
			"commit": func(t *rapid.T) { m.commit(t) },
			"": func(t *rapid.T) {
				for _, ch := range []ChannelKey{testGroup, testPerson} {
					m.checkSeqsWithoutGaps(t, ch, lastSeq[ch])
				}
			},
		})
	})
}

func TestDuplicateStoresNothing(t *testing.T) {
	m := newMemFSM(t, openMemDB(t), 3, 1000)
	defer m.close()
	first := m.send(testGroup, "u1", "c1", 5000)
	m.commit(t)
	before := m.f.channel(testGroup)
	dup := m.send(testGroup, "u1", "c1", 5999)
	if !dup.Duplicate || dup.Msg.Seq != first.Msg.Seq || dup.Msg.MessageID != first.Msg.MessageID {
		t.Fatalf("repeat within the window: %+v, want the original %+v", dup.Msg, first.Msg)
	}
	if dup.Msg.Timestamp != first.Msg.Timestamp || string(dup.Msg.Payload) != string(first.Msg.Payload) {
		t.Fatalf("the duplicate returns %+v, not the stored original %+v", dup.Msg, first.Msg)
	}
	if after := m.f.channel(testGroup); after != before {
		t.Fatalf("a duplicate changed the channel record: %+v -> %+v", before, after)
	}
	if m.f.b.Count() != 0 {
		t.Fatalf("a duplicate wrote %d records", m.f.b.Count())
	}
	// Another sender, another channel, or no client_msg_no: not a repeat.
	for _, r := range []Result{
		m.send(testGroup, "u2", "c1", 5999),
		m.send(testPerson, "u1", "c1", 5999),
		m.send(testGroup, "u1", "", 5999),
		m.send(testGroup, "u1", "", 5999),
	} {
		if r.Duplicate {
			t.Fatalf("%+v reported as a duplicate", r.Msg)
		}
	}
	// At exactly the window's end the repeat is stored anew.
	again := m.send(testGroup, "u1", "c1", 6000)
	if again.Duplicate || again.Msg.Seq != 5 {
		t.Fatalf("repeat after the window: dup=%v seq=%d, want a new message at seq 5", again.Duplicate, again.Msg.Seq)
	}
}

func TestMessageIDsIncreaseWithinASlotAndAreUniqueAcrossSlots(t *testing.T) {
	db := openMemDB(t)
	defer db.Close()
	a, b := newMemFSM(t, db, 0, 1000), newMemFSM(t, db, 1, 1000)
	defer a.f.b.Close()
	defer b.f.b.Close()
	const ms = int64(1_700_000_000_123)
	var times []int64
	for range 9000 { // more than two milliseconds' worth of counter
		times = append(times, ms)
	}
	for i := range 200 { // the clock goes backwards, then forwards again
		times = append(times, ms-int64(i))
	}
	for i := range 100 {
		times = append(times, ms+int64(i%3))
	}
	times = append(times, ms+10_000, ms+10_000, ms)
	all := map[int64]string{}
	for i, at := range times {
		for _, m := range []*memFSM{a, b} {
			r := m.send(testGroup, "u1", "", at)
			id := r.Msg.MessageID
			if o, ok := all[id]; ok {
				t.Fatalf("send %d at %d in slot %d: id %d already given to %s", i, at, m.f.slot, id, o)
			}
			all[id] = fmt.Sprintf("send %d of slot %d", i, m.f.slot)
			if id <= 0 {
				t.Fatalf("slot %d: id %d not positive", m.f.slot, id)
			}
			if i > 0 {
				prev := m.f.message(testGroup, r.Msg.Seq-1).MessageID
				if id <= prev {
					t.Fatalf("slot %d send %d at %d: id %d not above the previous %d", m.f.slot, i, at, id, prev)
				}
			}
			if i%1000 == 999 {
				m.commit(t)
			}
		}
	}
	a.checkSeqsWithoutGaps(t, testGroup, uint64(len(times)))
}

func TestMessageIDsStayPositiveAfter2039(t *testing.T) {
	m := newMemFSM(t, openMemDB(t), 5, 1000)
	defer m.close()
	prev := m.send(testGroup, "u1", "", 1<<41-1).Msg.MessageID
	next := m.send(testGroup, "u1", "", 1<<41).Msg.MessageID
	if prev <= 0 || next <= prev {
		t.Fatalf("ids %d then %d", prev, next)
	}
}

func (m *memFSM) subAdd(ch ChannelKey, reset bool, uids ...string) Result {
	return m.f.apply(&Command{Op: OpSubAdd, Ch: ch, Reset: reset, UIDs: uids})
}

func TestSubscriberAddWithResetReplacesTheSet(t *testing.T) {
	m := newMemFSM(t, openMemDB(t), 0, 1000)
	defer m.close()
	if r := m.subAdd(testGroup, false, "u2", "u1", "u1"); !r.MembersChanged {
		t.Fatal("sub_add: MembersChanged not set")
	}
	if !m.f.channel(testGroup).Info.Exists {
		t.Fatal("sub_add did not create the channel")
	}
	if got := m.f.members(tblSubscriber, testGroup); !slices.Equal(got, []string{"u1", "u2"}) {
		t.Fatalf("subscribers %q", got)
	}
	m.commit(t)
	m.subAdd(testGroup, false, "u3")
	if got := m.f.members(tblSubscriber, testGroup); !slices.Equal(got, []string{"u1", "u2", "u3"}) {
		t.Fatalf("after add without reset: %q", got)
	}
	m.subAdd(testGroup, true, "u4", "u2")
	if got := m.f.members(tblSubscriber, testGroup); !slices.Equal(got, []string{"u2", "u4"}) {
		t.Fatalf("after add with reset: %q", got)
	}
	if got := m.send(testGroup, "u2", "", 1000).Recipients; !slices.Equal(got, []string{"u2", "u4"}) {
		t.Fatalf("recipients after reset: %q", got)
	}
	m.f.apply(&Command{Op: OpSubRemove, Ch: testGroup, UIDs: []string{"u4", "nobody"}})
	if got := m.f.members(tblSubscriber, testGroup); !slices.Equal(got, []string{"u2"}) {
		t.Fatalf("after remove: %q", got)
	}
	// OpChannel with reset and info.
	m.f.apply(&Command{Op: OpChannel, Ch: testGroup, Info: &ChannelInfo{Ban: true}, Reset: true, UIDs: []string{"u9"}})
	if got := m.f.members(tblSubscriber, testGroup); !slices.Equal(got, []string{"u9"}) {
		t.Fatalf("after channel reset: %q", got)
	}
	if info := m.f.channel(testGroup).Info; info != (ChannelInfo{Exists: true, Ban: true}) {
		t.Fatalf("info %+v", info)
	}
}

func TestNewSubscribersConversationStartsReadAtLastSeq(t *testing.T) {
	m := newMemFSM(t, openMemDB(t), 0, 1000)
	defer m.close()
	m.subAdd(testGroup, false, "u1")
	if c := m.f.conversation("u1", testGroup); c.ReadSeq != 0 {
		t.Fatalf("first member's cursor %d", c.ReadSeq)
	}
	for range 3 {
		m.send(testGroup, "u1", "", 1000)
	}
	m.subAdd(testGroup, false, "u2")
	m.f.apply(&Command{Op: OpChannel, Ch: testGroup, UIDs: []string{"u3"}})
	for _, u := range []string{"u2", "u3"} {
		if c := m.f.conversation(u, testGroup); c.ReadSeq != 3 || unread(3, c.ReadSeq) != 0 {
			t.Fatalf("new member %s: read cursor %d, want 3", u, c.ReadSeq)
		}
	}
	m.send(testGroup, "u1", "", 1000)
	if c := m.f.conversation("u2", testGroup); unread(4, c.ReadSeq) != 1 {
		t.Fatalf("u2 unread %d after one more message, want 1", unread(4, c.ReadSeq))
	}
	// Adding an existing member again leaves its cursor alone.
	m.subAdd(testGroup, false, "u2")
	if c := m.f.conversation("u2", testGroup); c.ReadSeq != 3 {
		t.Fatalf("re-adding u2 moved its cursor to %d", c.ReadSeq)
	}
	// A member who left and comes back starts read at the current last seq
	// and sees a deleted conversation again.
	m.f.apply(&Command{Op: OpConvDelete, Ch: testGroup, UID: "u3"})
	m.f.apply(&Command{Op: OpSubRemove, Ch: testGroup, UIDs: []string{"u3"}})
	m.send(testGroup, "u1", "", 1000)
	m.subAdd(testGroup, false, "u3")
	if c := m.f.conversation("u3", testGroup); c.ReadSeq != 5 || c.DeletedSeq != 0 {
		t.Fatalf("returning member: %+v, want read 5, not deleted", c)
	}
}

func TestSubscriberAddWithResetKeepsStayingMembersCursors(t *testing.T) {
	m := newMemFSM(t, openMemDB(t), 0, 1000)
	defer m.close()
	m.subAdd(testGroup, false, "u1", "u2")
	for range 3 {
		m.send(testGroup, "u1", "", 1000)
	}
	m.subAdd(testGroup, true, "u1", "u2", "u3")
	if c := m.f.conversation("u2", testGroup); c.ReadSeq != 0 {
		t.Fatalf("u2 stayed a member but its read cursor moved to %d (unread 3 -> %d)", c.ReadSeq, unread(3, c.ReadSeq))
	}
}

func TestConversationReadCursors(t *testing.T) {
	m := newMemFSM(t, openMemDB(t), 0, 1000)
	defer m.close()
	m.subAdd(testGroup, false, "u1", "u2")
	for range 5 {
		m.send(testGroup, "u1", "", 1000)
	}
	conv := func(op string, seq, n uint64) convRecord {
		t.Helper()
		m.f.apply(&Command{Op: op, Ch: testGroup, UID: "u2", Seq: seq, Unread: n})
		return m.f.conversation("u2", testGroup)
	}
	if c := m.f.conversation("u1", testGroup); c.ReadSeq != 5 {
		t.Fatalf("sender's own messages left its cursor at %d", c.ReadSeq)
	}
	if c := m.f.conversation("u2", testGroup); unread(5, c.ReadSeq) != 5 {
		t.Fatalf("u2 unread %d, want 5", unread(5, c.ReadSeq))
	}
	for _, c := range []struct {
		name      string
		op        string
		seq, n    uint64
		wantRead  uint64
		wantDelSq uint64
	}{
		{"clear with seq", OpConvClear, 2, 0, 2, 0},
		{"clear without seq", OpConvClear, 0, 0, 5, 0},
		{"clear with seq moves back", OpConvClear, 1, 0, 1, 0},
		{"clear with seq past last", OpConvClear, 99, 0, 5, 0},
		{"set unread 2", OpConvSetUnread, 0, 2, 3, 0},
		{"set unread 0", OpConvSetUnread, 0, 0, 5, 0},
		{"set unread above last", OpConvSetUnread, 0, 7, 0, 0},
		{"delete", OpConvDelete, 0, 0, 0, 5},
	} {
		got := conv(c.op, c.seq, c.n)
		if got.ReadSeq != c.wantRead || got.DeletedSeq != c.wantDelSq {
			t.Fatalf("%s: %+v, want read %d deleted %d", c.name, got, c.wantRead, c.wantDelSq)
		}
	}
	// A later message from u2 itself moves its cursor and keeps the
	// deletion mark below the new message.
	m.send(testGroup, "u2", "", 1000)
	if c := m.f.conversation("u2", testGroup); c.ReadSeq != 6 || c.DeletedSeq != 5 {
		t.Fatalf("after u2's own message: %+v, want read 6 deleted 5", c)
	}
	// Operations on one user's conversation leave the other's alone.
	if c := m.f.conversation("u1", testGroup); c.ReadSeq != 5 || c.DeletedSeq != 0 {
		t.Fatalf("u1's conversation changed: %+v", c)
	}
}

func TestPersonChannelFirstMessageCreatesBothConversations(t *testing.T) {
	m := newMemFSM(t, openMemDB(t), 0, 1000)
	defer m.close()
	has := func(uid string) bool { return m.f.has(conversationKey(0, uid, testPerson)) }
	if has("u1") || has("u2") {
		t.Fatal("conversations before any message")
	}
	r := m.send(testPerson, "u1", "", 1000)
	if want := testPerson.PersonMembers(); !slices.Equal(r.Recipients, want) {
		t.Fatalf("recipients %q, want %q", r.Recipients, want)
	}
	if !has("u1") || !has("u2") {
		t.Fatalf("after the first message: u1 %v, u2 %v", has("u1"), has("u2"))
	}
	if c := m.f.conversation("u1", testPerson); c.ReadSeq != 1 {
		t.Fatalf("sender read %d", c.ReadSeq)
	}
	if c := m.f.conversation("u2", testPerson); unread(1, c.ReadSeq) != 1 {
		t.Fatalf("peer unread %d, want 1", unread(1, c.ReadSeq))
	}
	m.f.apply(&Command{Op: OpConvClear, Ch: testPerson, UID: "u2"})
	m.send(testPerson, "u1", "", 1000)
	if c := m.f.conversation("u2", testPerson); unread(2, c.ReadSeq) != 1 {
		t.Fatalf("a later message reset the peer's cursor: unread %d, want 1", unread(2, c.ReadSeq))
	}
	m.send(testPerson, "u2", "", 1000)
	if c := m.f.conversation("u1", testPerson); unread(3, c.ReadSeq) != 1 {
		t.Fatalf("u1 unread %d, want 1", unread(3, c.ReadSeq))
	}
	// Self chat: one member, one conversation.
	self := ChannelKey{Type: proto.ChannelPerson, ID: PersonChannelID("u5", "u5")}
	if r := m.send(self, "u5", "", 1000); !slices.Equal(r.Recipients, []string{"u5"}) {
		t.Fatalf("self chat recipients %q", r.Recipients)
	}
}

func TestListOpsMatchModel(t *testing.T) {
	uids := []string{"a", "ab", "b", "c"}
	rapid.Check(t, func(t *rapid.T) {
		m := newMemFSM(t, openMemDB(t), 7, 1000)
		defer m.close()
		ch := rapid.SampledFrom([]ChannelKey{testGroup, {Type: proto.ChannelPerson, ID: "u1"}}).Draw(t, "ch")
		m.subAdd(testGroup, false, "s1", "s2")
		model := map[byte]map[string]bool{tblBlacklist: {}, tblWhitelist: {}}
		t.Repeat(map[string]func(*rapid.T){
			"list": func(t *rapid.T) {
				tbl := rapid.SampledFrom([]byte{tblBlacklist, tblWhitelist}).Draw(t, "table")
				op := rapid.SampledFrom([]string{ListAdd, ListSet, ListRemove, ListRemoveAll}).Draw(t, "op")
				us := rapid.SliceOfN(rapid.SampledFrom(uids), 0, 4).Draw(t, "uids")
				m.f.apply(&Command{Op: OpList, Ch: ch, Table: tbl, ListOp: op, UIDs: us})
				set := model[tbl]
				if op == ListSet || op == ListRemoveAll {
					clear(set)
				}
				for _, u := range us {
					switch op {
					case ListAdd, ListSet:
						set[u] = true
					case ListRemove:
						delete(set, u)
					}
				}
			},
			"commit": func(t *rapid.T) { m.commit(t) },
			"": func(t *rapid.T) {
				for tbl, set := range model {
					var want []string
					for u := range set {
						want = append(want, u)
					}
					sort.Strings(want)
					if got := m.f.members(tbl, ch); !slices.Equal(got, want) {
						t.Fatalf("%c list of %v = %q, want %q", tbl, ch, got, want)
					}
				}
				if got := m.f.channel(ch).WhitelistSize; got != len(model[tblWhitelist]) {
					t.Fatalf("WhitelistSize %d, want %d", got, len(model[tblWhitelist]))
				}
				if got := m.f.members(tblSubscriber, testGroup); !slices.Equal(got, []string{"s1", "s2"}) {
					t.Fatalf("list ops changed the subscribers: %q", got)
				}
			},
		})
	})
}

func TestChannelDeleteDropsMembersAndListsButKeepsMessages(t *testing.T) {
	m := newMemFSM(t, openMemDB(t), 0, 1000)
	defer m.close()
	m.f.apply(&Command{Op: OpChannel, Ch: testGroup, Info: &ChannelInfo{SendBan: true}, UIDs: []string{"u1", "u2"}})
	m.f.apply(&Command{Op: OpList, Ch: testGroup, Table: tblWhitelist, ListOp: ListAdd, UIDs: []string{"u1"}})
	m.f.apply(&Command{Op: OpList, Ch: testGroup, Table: tblBlacklist, ListOp: ListAdd, UIDs: []string{"u2"}})
	m.send(testGroup, "u1", "", 1000)
	m.send(testGroup, "u1", "", 1000)
	m.commit(t)
	if r := m.f.apply(&Command{Op: OpChannelDelete, Ch: testGroup}); !r.MembersChanged {
		t.Fatal("delete: MembersChanged not set")
	}
	rec := m.f.channel(testGroup)
	if rec.Info != (ChannelInfo{}) || rec.WhitelistSize != 0 || rec.LastSeq != 2 {
		t.Fatalf("after delete: %+v", rec)
	}
	for _, tbl := range []byte{tblSubscriber, tblBlacklist, tblWhitelist} {
		if got := m.f.members(tbl, testGroup); len(got) != 0 {
			t.Fatalf("%c list after delete: %q", tbl, got)
		}
	}
	m.checkSeqsWithoutGaps(t, testGroup, 2)
	// Recreated, it continues the seqs.
	m.subAdd(testGroup, false, "u1")
	if r := m.send(testGroup, "u1", "", 1000); r.Msg.Seq != 3 {
		t.Fatalf("after recreation seq %d, want 3", r.Msg.Seq)
	}
}

func TestChannelInfoUpdatesOnlyTheInfo(t *testing.T) {
	m := newMemFSM(t, openMemDB(t), 0, 1000)
	defer m.close()
	m.subAdd(testGroup, false, "u1")
	m.send(testGroup, "u1", "", 1000)
	m.f.apply(&Command{Op: OpList, Ch: testGroup, Table: tblWhitelist, ListOp: ListAdd, UIDs: []string{"u1"}})
	m.f.apply(&Command{Op: OpChannelInfo, Ch: testGroup, Info: &ChannelInfo{Disband: true}})
	rec := m.f.channel(testGroup)
	if rec.Info != (ChannelInfo{Exists: true, Disband: true}) || rec.LastSeq != 1 || rec.WhitelistSize != 1 {
		t.Fatalf("after channel_info: %+v", rec)
	}
	if got := m.f.members(tblSubscriber, testGroup); !slices.Equal(got, []string{"u1"}) {
		t.Fatalf("channel_info changed subscribers: %q", got)
	}
}

func TestTokensAndSystemUIDs(t *testing.T) {
	m := newMemFSM(t, openMemDB(t), 0, 1000)
	defer m.close()
	tok := func(uid string, flag uint8) (tokenRecord, bool) {
		var r tokenRecord
		v, ok := m.f.get(tokenKey(0, uid, flag))
		if ok {
			decode(v, &r)
		}
		return r, ok
	}
	m.f.apply(&Command{Op: OpToken, UID: "u1", Flag: 0, Token: "t0", Level: 1})
	m.f.apply(&Command{Op: OpToken, UID: "u1", Flag: 1, Token: "t1"})
	m.f.apply(&Command{Op: OpToken, UID: "u1x", Flag: 0, Token: "other"})
	if r, ok := tok("u1", 0); !ok || r != (tokenRecord{Token: "t0", Level: 1}) {
		t.Fatalf("token u1/0 = %+v %v", r, ok)
	}
	m.f.apply(&Command{Op: OpTokenClear, UID: "u1", Flag: 1})
	if _, ok := tok("u1", 1); ok {
		t.Fatal("token u1/1 survived its clear")
	}
	if _, ok := tok("u1", 0); !ok {
		t.Fatal("clearing flag 1 cleared flag 0")
	}
	m.f.apply(&Command{Op: OpTokenClear, UID: "u1", Flag: -1})
	if _, ok := tok("u1", 0); ok {
		t.Fatal("token u1/0 survived clearing every flag")
	}
	if r, ok := tok("u1x", 0); !ok || r.Token != "other" {
		t.Fatal("clearing u1 cleared u1x")
	}
	if r := m.f.apply(&Command{Op: OpSystemAdd, UIDs: []string{"sys", "sys2"}}); !r.SystemChanged {
		t.Fatal("sysuid_add: SystemChanged not set")
	}
	m.f.apply(&Command{Op: OpSystemRemove, UIDs: []string{"sys2"}})
	if got := readMembers(m.f.b, tableKey(0, tblSystemUID)); !slices.Equal(got, []string{"sys"}) {
		t.Fatalf("system uids %q", got)
	}
}

func TestUnknownCommandPanics(t *testing.T) {
	m := newMemFSM(t, openMemDB(t), 0, 1000)
	defer m.close()
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	m.f.apply(&Command{Op: "nope"})
}
