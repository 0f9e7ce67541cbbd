package state

import (
	"hash/crc32"
	"strconv"
	"testing"

	"github.com/jindou-im/jindou/node/proto"
	"pgregory.net/rapid"
)

// The slot of a channel or a user is the CRC32 of its key, as it always
// was (the stores are laid out by it), though computed without building
// the key.
func TestSlotOfIsTheCRC32OfTheKey(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		k := ChannelKey{Type: proto.ChannelType(rapid.Byte().Draw(t, "type")), ID: rapid.String().Draw(t, "id")}
		slots := rapid.IntRange(1, MaxSlots).Draw(t, "slots")
		key := "c:" + strconv.Itoa(int(k.Type)) + ":" + k.ID
		if got, want := SlotOfChannel(k, slots), int(crc32.ChecksumIEEE([]byte(key))%uint32(slots)); got != want {
			t.Fatalf("slot of %q of %d: %d, want %d", key, slots, got, want)
		}
		uid := rapid.String().Draw(t, "uid")
		if got, want := SlotOfUser(uid, slots), int(crc32.ChecksumIEEE([]byte("u:"+uid))%uint32(slots)); got != want {
			t.Fatalf("slot of user %q of %d: %d, want %d", uid, slots, got, want)
		}
	})
}

func BenchmarkSlotOfChannel(b *testing.B) {
	k := ChannelKey{Type: proto.ChannelPerson, ID: PersonChannelID("u12", "u13")}
	b.ReportAllocs()
	for b.Loop() {
		SlotOfChannel(k, 64)
	}
}
