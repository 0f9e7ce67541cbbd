package state

import (
	"errors"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/jindou-im/jindou/node/proto"
	"pgregory.net/rapid"
)

func crc(s string) uint32 { return crc32.ChecksumIEEE([]byte(s)) }

// uidGen draws valid uids: short, from a small alphabet so that equal and
// prefix-related uids are common.
func uidGen() *rapid.Generator[string] {
	return rapid.StringOfN(rapid.SampledFrom([]rune("abcxyz09_-.é")), 1, 12, -1)
}

// crcCollision finds two distinct 8-letter uids with the same CRC32-IEEE by
// a bounded search over pseudo-random strings (a fixed seed, so the same
// pair every run; about 8 collisions are expected among 2^18 strings).
func crcCollision(t *testing.T) (string, string) {
	t.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	seen := make(map[uint32]string, 1<<18)
	for range 1 << 18 {
		b := make([]byte, 8)
		for j := range b {
			b[j] = 'a' + byte(r.IntN(26))
		}
		s, c := string(b), crc32.ChecksumIEEE(b)
		if o, ok := seen[c]; ok && o != s {
			return o, s
		}
		seen[c] = s
	}
	t.Fatal("no CRC32 collision among 2^18 random 8-letter uids")
	return "", ""
}

func TestPersonChannelIDIsSymmetric(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a, b := uidGen().Draw(t, "a"), uidGen().Draw(t, "b")
		if x, y := PersonChannelID(a, b), PersonChannelID(b, a); x != y {
			t.Fatalf("PersonChannelID(%q, %q) = %q but PersonChannelID(%q, %q) = %q", a, b, x, b, a, y)
		}
	})
}

func TestPersonChannelIDPutsLargerCRCFirst(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a, b := uidGen().Draw(t, "a"), uidGen().Draw(t, "b")
		first, second, ok := strings.Cut(PersonChannelID(a, b), "@")
		if !ok {
			t.Fatalf("PersonChannelID(%q, %q) has no '@'", a, b)
		}
		if !(first == a && second == b || first == b && second == a) {
			t.Fatalf("PersonChannelID(%q, %q) = %q@%q: not the two uids", a, b, first, second)
		}
		if crc(first) < crc(second) {
			t.Fatalf("PersonChannelID(%q, %q): %q (crc %08x) before %q (crc %08x)", a, b, first, crc(first), second, crc(second))
		}
		if crc(first) == crc(second) && first < second {
			t.Fatalf("PersonChannelID(%q, %q): CRC tie but lexically smaller %q first", a, b, first)
		}
	})
}

func TestPersonChannelIDOnCRCTiePutsLexicallyLargerFirst(t *testing.T) {
	x, y := crcCollision(t)
	pairs := [][2]string{{"plumless", "buckeroo"}, {x, y}}
	for _, p := range pairs {
		a, b := p[0], p[1]
		if a == b || crc(a) != crc(b) {
			t.Fatalf("test premise: %q and %q must be distinct with equal CRC32 (%08x, %08x)", a, b, crc(a), crc(b))
		}
		hi, lo := max(a, b), min(a, b)
		want := hi + "@" + lo
		if got := PersonChannelID(a, b); got != want {
			t.Errorf("PersonChannelID(%q, %q) = %q, want %q", a, b, got, want)
		}
		if got := PersonChannelID(b, a); got != want {
			t.Errorf("PersonChannelID(%q, %q) = %q, want %q", b, a, got, want)
		}
	}
}

func TestPersonChannelIDKnownOrder(t *testing.T) {
	// Fixed expectations, independent of the implementation's comparison.
	a, b := "alice", "bob"
	want := b + "@" + a
	if crc(a) > crc(b) {
		want = a + "@" + b
	}
	if got := PersonChannelID(a, b); got != want {
		t.Fatalf("PersonChannelID(alice, bob) = %q, want %q (crc alice %08x, bob %08x)", got, want, crc(a), crc(b))
	}
	if got := PersonChannelID("u1", "u1"); got != "u1@u1" {
		t.Fatalf("self chat id = %q, want u1@u1", got)
	}
}

func TestPersonUIDsRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a, b := uidGen().Draw(t, "a"), uidGen().Draw(t, "b")
		id := PersonChannelID(a, b)
		x, y, ok := PersonUIDs(id)
		if !ok {
			t.Fatalf("PersonUIDs(%q) not ok", id)
		}
		if x+"@"+y != id {
			t.Fatalf("PersonUIDs(%q) = %q, %q", id, x, y)
		}
		if !(x == a && y == b || x == b && y == a) {
			t.Fatalf("PersonUIDs(PersonChannelID(%q, %q)) = %q, %q", a, b, x, y)
		}
	})
	if _, _, ok := PersonUIDs("group-without-at"); ok {
		t.Fatal("PersonUIDs of an id without '@' reported ok")
	}
}

func TestPeerOfGivesTheOtherPartyFromBothSides(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a, b := uidGen().Draw(t, "a"), uidGen().Draw(t, "b")
		k := ChannelKey{Type: proto.ChannelPerson, ID: PersonChannelID(a, b)}
		if got := k.PeerOf(a); got != b {
			t.Fatalf("%v.PeerOf(%q) = %q, want %q", k, a, got, b)
		}
		if got := k.PeerOf(b); got != a {
			t.Fatalf("%v.PeerOf(%q) = %q, want %q", k, b, got, a)
		}
		// ResolveChannel from either side addresses the same stored key.
		ka, err := ResolveChannel(a, b, proto.ChannelPerson)
		if err != nil {
			t.Fatal(err)
		}
		kb, err := ResolveChannel(b, a, proto.ChannelPerson)
		if err != nil {
			t.Fatal(err)
		}
		if ka != k || kb != k {
			t.Fatalf("ResolveChannel: %v from %q, %v from %q, want %v", ka, a, kb, b, k)
		}
	})
	g := ChannelKey{Type: proto.ChannelGroup, ID: "x@y"}
	if got := g.PeerOf("x"); got != "x@y" {
		t.Fatalf("a group's PeerOf = %q, want its id", got)
	}
}

func TestPersonMembers(t *testing.T) {
	for _, c := range []struct {
		id   string
		want []string
	}{{"a@b", []string{"a", "b"}}, {"a@a", []string{"a"}}, {"ab", nil}} {
		got := ChannelKey{Type: proto.ChannelPerson, ID: c.id}.PersonMembers()
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("PersonMembers(%q) = %q, want %q", c.id, got, c.want)
		}
	}
}

func TestResolveChannelRejectsBadIdentifiers(t *testing.T) {
	long := func(n int) string { return strings.Repeat("a", n) }
	for _, c := range []struct {
		name string
		id   string
		typ  proto.ChannelType
		want error // nil: accepted
	}{
		{"person empty", "", proto.ChannelPerson, ErrBadUID},
		{"person @", "a@b", proto.ChannelPerson, ErrBadUID},
		{"person #", "a#b", proto.ChannelPerson, ErrBadUID},
		{"person &", "a&b", proto.ChannelPerson, ErrBadUID},
		{"person NUL", "a\x00b", proto.ChannelPerson, ErrBadUID},
		{"person trailing NUL", "a\x00", proto.ChannelPerson, ErrBadUID},
		{"person 129 bytes", long(129), proto.ChannelPerson, ErrBadUID},
		{"person invalid UTF-8", "bob\xff", proto.ChannelPerson, ErrBadUID},
		{"person lone surrogate", "a\xed\xa0\x80", proto.ChannelPerson, ErrBadUID},
		{"person UTF-8", "名字", proto.ChannelPerson, nil},
		{"person 128 bytes", long(128), proto.ChannelPerson, nil},
		{"person ok", "bob", proto.ChannelPerson, nil},
		{"group empty", "", proto.ChannelGroup, ErrBadChannelID},
		{"group NUL", "g\x00", proto.ChannelGroup, ErrBadChannelID},
		{"group 257 bytes", long(257), proto.ChannelGroup, ErrBadChannelID},
		{"group 256 bytes", long(256), proto.ChannelGroup, nil},
		{"group invalid UTF-8", "g\xc3", proto.ChannelGroup, ErrBadChannelID},
		{"group UTF-8", "群组", proto.ChannelGroup, nil},
		{"group with @#&", "g@#&", proto.ChannelGroup, nil},
		{"other type empty", "", proto.ChannelLive, ErrBadChannelID},
	} {
		k, err := ResolveChannel("alice", c.id, c.typ)
		if c.want == nil {
			if err != nil {
				t.Errorf("%s: ResolveChannel(%q, %d) = %v", c.name, c.id, c.typ, err)
			}
			continue
		}
		if !errors.Is(err, c.want) {
			t.Errorf("%s: ResolveChannel(%q, %d) = %v, %v; want %v", c.name, c.id, c.typ, k, err, c.want)
		}
	}
	k, err := ResolveChannel("alice", "g1", proto.ChannelGroup)
	if err != nil || k != (ChannelKey{Type: proto.ChannelGroup, ID: "g1"}) {
		t.Fatalf("group resolve = %v, %v", k, err)
	}
}

func TestValidUIDRejectsEveryForbiddenByte(t *testing.T) {
	for _, bad := range []string{"", "@", "#", "&", "\x00", "x@", "#x", "x&y"} {
		if ValidUID(bad) == nil {
			t.Errorf("ValidUID(%q) = nil", bad)
		}
	}
	for _, ok := range []string{"a", "u-1.x_y", "中文", strings.Repeat("z", 128)} {
		if err := ValidUID(ok); err != nil {
			t.Errorf("ValidUID(%q) = %v", ok, err)
		}
	}
}

func TestSupportedChannelTypesArePersonGroupAndWuKongIMsStoredKinds(t *testing.T) {
	for typ := range 256 {
		want := typ >= 1 && typ <= 9
		if got := SupportedChannelType(proto.ChannelType(typ)); got != want {
			t.Errorf("SupportedChannelType(%d) = %v", typ, got)
		}
	}
}

func TestSlotOfIsInRange(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		key := rapid.String().Draw(t, "key")
		slots := rapid.IntRange(1, 1023).Draw(t, "slots")
		if s := SlotOf(key, slots); s < 0 || s >= slots {
			t.Fatalf("SlotOf(%q, %d) = %d", key, slots, s)
		}
	})
}

// The slot of a channel or user is CRC32 of "c:<type>:<id>" or "u:<uid>"
// (the layout of existing stores): the allocation-free forms compute
// exactly that.
func TestSlotOfChannelAndUserKeepTheirKeyLayout(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		slots := rapid.IntRange(1, MaxSlots).Draw(t, "slots")
		ch := ChannelKey{Type: proto.ChannelType(rapid.Uint8().Draw(t, "type")), ID: rapid.StringN(0, 256, 256).Draw(t, "id")}
		if got, want := SlotOfChannel(ch, slots), SlotOf(fmt.Sprintf("c:%d:%s", ch.Type, ch.ID), slots); got != want {
			t.Fatalf("SlotOfChannel(%v) = %d, want %d", ch, got, want)
		}
		uid := rapid.StringN(0, 128, 256).Draw(t, "uid")
		if got, want := SlotOfUser(uid, slots), SlotOf("u:"+uid, slots); got != want {
			t.Fatalf("SlotOfUser(%q) = %d, want %d", uid, got, want)
		}
	})
}
