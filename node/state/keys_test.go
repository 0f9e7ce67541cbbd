package state

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/jindou-im/jindou/node/proto"
	"pgregory.net/rapid"
)

func TestPrefixEndEdgeCases(t *testing.T) {
	for _, c := range []struct {
		in, want []byte // want nil: no upper bound
	}{
		{nil, nil},
		{[]byte{}, nil},
		{[]byte{0xff}, nil},
		{[]byte{0xff, 0xff, 0xff}, nil},
		{[]byte{0x00}, []byte{0x01}},
		{[]byte("a"), []byte("b")},
		{[]byte{'a', 0xfe}, []byte{'a', 0xff}},
		{[]byte{'a', 0xff}, []byte{'b'}},
		{[]byte{'a', 0xff, 0xff}, []byte{'b'}},
		{[]byte{0x01, 0xff, 0x00, 0xff}, []byte{0x01, 0xff, 0x01}},
		{[]byte{0xfe, 0xff}, []byte{0xff}},
	} {
		in := slices.Clone(c.in)
		got := prefixEnd(in)
		if !bytes.Equal(in, c.in) {
			t.Errorf("prefixEnd(%x) modified its argument to %x", c.in, in)
		}
		if (got == nil) != (c.want == nil) || !bytes.Equal(got, c.want) {
			t.Errorf("prefixEnd(%x) = %x, want %x", c.in, got, c.want)
		}
	}
}

func TestPrefixEndBoundsExactlyThePrefixedKeys(t *testing.T) {
	bytesGen := rapid.SliceOfN(rapid.SampledFrom([]byte{0x00, 0x01, 'a', 0xfe, 0xff}), 0, 5)
	rapid.Check(t, func(t *rapid.T) {
		p := bytesGen.Draw(t, "prefix")
		k := bytesGen.Draw(t, "key")
		end := prefixEnd(p)
		in := bytes.Compare(k, p) >= 0 && (end == nil || bytes.Compare(k, end) < 0)
		if in != bytes.HasPrefix(k, p) {
			t.Fatalf("key %x, prefix %x, end %x: in range %v, has prefix %v", k, p, end, in, !in)
		}
	})
}

// keyUID draws uids (and channel ids) from an alphabet where one is often
// a prefix of another, including the extreme bytes allowed.
func keyUID() *rapid.Generator[string] {
	return rapid.Map(rapid.SliceOfN(rapid.SampledFrom([]byte{'a', 'b', 0x01, 0xff}), 1, 4),
		func(b []byte) string { return string(b) })
}

func keyChannel() *rapid.Generator[ChannelKey] {
	return rapid.Custom(func(t *rapid.T) ChannelKey {
		typ := rapid.SampledFrom([]proto.ChannelType{proto.ChannelPerson, proto.ChannelGroup, 0xff}).Draw(t, "type")
		return ChannelKey{Type: typ, ID: keyUID().Draw(t, "id")}
	})
}

func TestMemberKeysOfDifferentChannelsNeverShareAPrefix(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s1, s2 := rapid.IntRange(0, 2).Draw(t, "slot1"), rapid.IntRange(0, 2).Draw(t, "slot2")
		tbl := []byte{tblSubscriber, tblBlacklist, tblWhitelist}
		t1, t2 := rapid.SampledFrom(tbl).Draw(t, "table1"), rapid.SampledFrom(tbl).Draw(t, "table2")
		k1, k2 := keyChannel().Draw(t, "ch1"), keyChannel().Draw(t, "ch2")
		u1, u2 := keyUID().Draw(t, "uid1"), keyUID().Draw(t, "uid2")

		same := s1 == s2 && t1 == t2 && k1 == k2
		if got := bytes.HasPrefix(memberKey(s2, t2, k2, u2), memberPrefix(s1, t1, k1)); got != same {
			t.Fatalf("memberKey(%d, %c, %v, %q) has prefix memberPrefix(%d, %c, %v): %v", s2, t2, k2, u2, s1, t1, k1, got)
		}
		if eq := bytes.Equal(memberKey(s1, t1, k1, u1), memberKey(s2, t2, k2, u2)); eq != (same && u1 == u2) {
			t.Fatalf("memberKey equality %v for (%d %c %v %q) and (%d %c %v %q)", eq, s1, t1, k1, u1, s2, t2, k2, u2)
		}
		if eq := bytes.Equal(channelKey(s1, k1), channelKey(s2, k2)); eq != (s1 == s2 && k1 == k2) {
			t.Fatalf("channelKey equality %v for (%d %v) and (%d %v)", eq, s1, k1, s2, k2)
		}
	})
}

func TestConversationKeysOfDifferentUIDsNeverShareAPrefix(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s1, s2 := rapid.IntRange(0, 2).Draw(t, "slot1"), rapid.IntRange(0, 2).Draw(t, "slot2")
		u1, u2 := keyUID().Draw(t, "uid1"), keyUID().Draw(t, "uid2")
		k1, k2 := keyChannel().Draw(t, "ch1"), keyChannel().Draw(t, "ch2")
		same := s1 == s2 && u1 == u2
		if got := bytes.HasPrefix(conversationKey(s2, u2, k2), conversationPrefix(s1, u1)); got != same {
			t.Fatalf("conversationKey(%d, %q, %v) has prefix conversationPrefix(%d, %q): %v", s2, u2, k2, s1, u1, got)
		}
		if eq := bytes.Equal(conversationKey(s1, u1, k1), conversationKey(s2, u2, k2)); eq != (same && k1 == k2) {
			t.Fatalf("conversationKey equality %v for (%d %q %v) and (%d %q %v)", eq, s1, u1, k1, s2, u2, k2)
		}
		// The channel decodes back from a conversation key, as
		// ConversationSync does.
		p, k := conversationPrefix(s1, u1), conversationKey(s1, u1, k1)
		back := ChannelKey{Type: proto.ChannelType(k[len(p)]), ID: string(k[len(p)+1 : len(k)-1])}
		if back != k1 {
			t.Fatalf("conversation key of %v decodes to %v", k1, back)
		}
	})
}

func TestMessageDedupeTokenKeysAreInjective(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		k1, k2 := keyChannel().Draw(t, "ch1"), keyChannel().Draw(t, "ch2")
		q1, q2 := rapid.Uint64().Draw(t, "seq1"), rapid.Uint64().Draw(t, "seq2")
		if eq := bytes.Equal(messageKey(1, k1, q1), messageKey(1, k2, q2)); eq != (k1 == k2 && q1 == q2) {
			t.Fatalf("messageKey equality %v for (%v %d) and (%v %d)", eq, k1, q1, k2, q2)
		}
		// Messages of one channel never fall in another's message range.
		p := appendChannel(tableKey(1, tblMessage), k1)
		if bytes.HasPrefix(messageKey(1, k2, q2), p) != (k1 == k2) {
			t.Fatalf("messageKey(%v, %d) under the message prefix of %v", k2, q2, k1)
		}
		f1, f2 := keyUID().Draw(t, "from1"), keyUID().Draw(t, "from2")
		c1, c2 := rapid.String().Draw(t, "cmn1"), rapid.String().Draw(t, "cmn2")
		if eq := bytes.Equal(dedupeKey(1, k1, f1, c1), dedupeKey(1, k2, f2, c2)); eq != (k1 == k2 && f1 == f2 && c1 == c2) {
			t.Fatalf("dedupeKey equality %v for (%v %q %q) and (%v %q %q)", eq, k1, f1, c1, k2, f2, c2)
		}
		g1, g2 := rapid.Uint8().Draw(t, "flag1"), rapid.Uint8().Draw(t, "flag2")
		if eq := bytes.Equal(tokenKey(1, f1, g1), tokenKey(1, f2, g2)); eq != (f1 == f2 && g1 == g2) {
			t.Fatalf("tokenKey equality %v for (%q %d) and (%q %d)", eq, f1, g1, f2, g2)
		}
	})
	// The classic ambiguity: from "a" + cmn "bc" against from "ab" + cmn "c".
	k := ChannelKey{Type: proto.ChannelGroup, ID: "g"}
	if bytes.Equal(dedupeKey(0, k, "a", "bc"), dedupeKey(0, k, "ab", "c")) {
		t.Fatal("dedupe keys of (a, bc) and (ab, c) collide")
	}
}

func TestMessageKeysSortBySeq(t *testing.T) {
	k := ChannelKey{Type: proto.ChannelGroup, ID: "g"}
	seqs := []uint64{0, 1, 2, 255, 256, 1 << 32, 1<<64 - 1}
	for i := 1; i < len(seqs); i++ {
		if bytes.Compare(messageKey(3, k, seqs[i-1]), messageKey(3, k, seqs[i])) >= 0 {
			t.Fatalf("messageKey(%d) does not sort before messageKey(%d)", seqs[i-1], seqs[i])
		}
	}
}

func TestKeySpacesOfSlotsAndTablesAreDisjoint(t *testing.T) {
	// No key of one kind or slot equals or prefixes a key of another; slots
	// 0x00ff and 0x0100 differ in the carry byte.
	k := ChannelKey{Type: proto.ChannelGroup, ID: "g"}
	keys := map[string]string{}
	add := func(name string, key []byte) {
		if o, ok := keys[string(key)]; ok {
			t.Fatalf("%s and %s share key %x", o, name, key)
		}
		keys[string(key)] = name
	}
	for _, slot := range []int{0, 1, 0xff, 0x100, 1022} {
		s := fmt.Sprint(slot)
		add("hardState "+s, HardStateKey(slot))
		add("raftEntry "+s, RaftEntryKey(slot, 1))
		add("applied "+s, AppliedKey(slot))
		add("channel "+s, channelKey(slot, k))
		add("member s "+s, memberKey(slot, tblSubscriber, k, "u"))
		add("member b "+s, memberKey(slot, tblBlacklist, k, "u"))
		add("member w "+s, memberKey(slot, tblWhitelist, k, "u"))
		add("message "+s, messageKey(slot, k, 1))
		add("dedupe "+s, dedupeKey(slot, k, "u", "m"))
		add("conversation "+s, conversationKey(slot, "u", k))
		add("token "+s, tokenKey(slot, "u", 0))
		add("slotMeta "+s, slotMetaKey(slot))
	}
	add("systemUID", systemUIDKey("u"))
	for key, name := range keys {
		for other, oname := range keys {
			if key != other && bytes.HasPrefix([]byte(other), []byte(key)) {
				t.Fatalf("%s (%x) is a prefix of %s (%x)", name, key, oname, other)
			}
		}
	}
}

// TestScanningAPrefixReturnsOnlyItsOwnKeys stores members and conversations
// of uids and channels that are prefixes of one another in a real Pebble
// and scans each prefix.
func TestScanningAPrefixReturnsOnlyItsOwnKeys(t *testing.T) {
	db, err := pebble.Open("data", &pebble.Options{FS: vfs.NewMem(), Logger: testPebbleLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const slot = 0xff // a slot whose prefixEnd carries
	g := ChannelKey{Type: proto.ChannelGroup, ID: "g"}
	g1 := ChannelKey{Type: proto.ChannelGroup, ID: "g1"}
	pg := ChannelKey{Type: proto.ChannelPerson, ID: "g"}
	put := func(k []byte) {
		if err := db.Set(k, []byte("{}"), nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []string{"a", "ab", "b"} {
		put(memberKey(slot, tblSubscriber, g, u+"-g"))
		put(memberKey(slot, tblSubscriber, g1, u+"-g1"))
		put(memberKey(slot, tblSubscriber, pg, u+"-pg"))
		put(memberKey(slot, tblBlacklist, g, u+"-black"))
		put(memberKey(slot+1, tblSubscriber, g, u+"-next-slot"))
		put(conversationKey(slot, u, g))
		put(conversationKey(slot, u, g1))
	}
	if got := readMembers(db, memberPrefix(slot, tblSubscriber, g)); !slices.Equal(got, []string{"a-g", "ab-g", "b-g"}) {
		t.Fatalf("subscribers of g = %q", got)
	}
	if got := readMembers(db, memberPrefix(slot, tblSubscriber, g1)); !slices.Equal(got, []string{"a-g1", "ab-g1", "b-g1"}) {
		t.Fatalf("subscribers of g1 = %q", got)
	}
	if got := readMembers(db, memberPrefix(slot, tblBlacklist, g)); !slices.Equal(got, []string{"a-black", "ab-black", "b-black"}) {
		t.Fatalf("blacklist of g = %q", got)
	}
	if got := readMembers(db, memberPrefix(slot+1, tblSubscriber, g)); !slices.Equal(got, []string{"a-next-slot", "ab-next-slot", "b-next-slot"}) {
		t.Fatalf("subscribers of g in slot %d = %q", slot+1, got)
	}
	for _, u := range []string{"a", "ab", "b"} {
		var chans []ChannelKey
		p := conversationPrefix(slot, u)
		Scan(db, p, func(k, _ []byte) {
			chans = append(chans, ChannelKey{Type: proto.ChannelType(k[len(p)]), ID: string(k[len(p)+1 : len(k)-1])})
		})
		if !slices.Equal(chans, []ChannelKey{g, g1}) {
			t.Fatalf("conversations of %q = %v", u, chans)
		}
	}
}
