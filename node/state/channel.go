package state

import (
	"errors"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jindou-im/jindou/node/proto"
)

// ChannelKey names a channel as stored: for a person channel, ID is the
// two-uid id of PersonChannelID, the same from both sides.
type ChannelKey struct {
	Type proto.ChannelType
	ID   string
}

func (k ChannelKey) String() string { return string(k.appendTo(nil)) }

// appendTo appends "type:id" to b.
func (k ChannelKey) appendTo(b []byte) []byte {
	b = strconv.AppendUint(b, uint64(k.Type), 10)
	return append(append(b, ':'), k.ID...)
}

// SystemUID is the sender of messages the back end sends without a
// from_uid, as in WuKongIM.
const SystemUID = "____system"

// Errors of identifiers.
var (
	ErrBadUID       = errors.New("uid must be non-empty, at most 128 bytes of valid UTF-8, without '@', '#', '&' or NUL")
	ErrBadChannelID = errors.New("channel_id must be non-empty, at most 256 bytes of valid UTF-8, without NUL")
)

// ValidUID reports whether uid may log in and send. It must be valid
// UTF-8: the HTTP API and JSON-RPC could not name it otherwise (JSON
// carries only UTF-8).
func ValidUID(uid string) error {
	if uid == "" || len(uid) > 128 || strings.ContainsAny(uid, "@#&\x00") || !utf8.ValidString(uid) {
		return ErrBadUID
	}
	return nil
}

// ValidChannelID reports whether id may name a channel (not a person
// channel, whose id is the peer's uid); valid UTF-8 as ValidUID.
func ValidChannelID(id string) error {
	if id == "" || len(id) > 256 || strings.ContainsRune(id, 0) || !utf8.ValidString(id) {
		return ErrBadChannelID
	}
	return nil
}

// PersonChannelID is the id under which the person chat of a and b is
// stored: "x@y" where x has the larger CRC32-IEEE of the two; on a tie the
// lexically larger uid goes first (WuKongIM v2 breaks ties by sender).
func PersonChannelID(a, b string) string {
	ca, cb := crc32.ChecksumIEEE([]byte(a)), crc32.ChecksumIEEE([]byte(b))
	if ca > cb || (ca == cb && a > b) {
		return a + "@" + b
	}
	return b + "@" + a
}

// PersonUIDs splits a person channel id into its two uids.
func PersonUIDs(id string) (a, b string, ok bool) {
	return strings.Cut(id, "@")
}

// PeerOf returns, for a person channel, the other party of uid, which is
// how the channel is shown to uid.
func (k ChannelKey) PeerOf(uid string) string {
	if k.Type != proto.ChannelPerson {
		return k.ID
	}
	a, b, ok := PersonUIDs(k.ID)
	if !ok {
		return k.ID
	}
	if a == uid {
		return b
	}
	return a
}

// Members of a person channel are its two uids.
func (k ChannelKey) PersonMembers() []string {
	a, b, ok := PersonUIDs(k.ID)
	if !ok {
		return nil
	}
	if a == b {
		return []string{a}
	}
	return []string{a, b}
}

// ResolveChannel turns the channel a client addresses into the stored key:
// a person channel is addressed by the peer's uid.
func ResolveChannel(fromUID, id string, typ proto.ChannelType) (ChannelKey, error) {
	if typ == proto.ChannelPerson {
		if err := ValidUID(id); err != nil {
			return ChannelKey{}, fmt.Errorf("person channel_id (the peer's uid): %w", err)
		}
		return ChannelKey{Type: typ, ID: PersonChannelID(fromUID, id)}, nil
	}
	if err := ValidChannelID(id); err != nil {
		return ChannelKey{}, err
	}
	return ChannelKey{Type: typ, ID: id}, nil
}

// SlotOf maps a key to one of slots slots, by CRC32.
func SlotOf(key string, slots int) int {
	return int(crc32.ChecksumIEEE([]byte(key)) % uint32(slots))
}

// SlotOfChannel is the slot that owns channel k: the CRC32 of
// "c:<type>:<id>", computed without building the key (it is asked once or
// twice per send).
func SlotOfChannel(k ChannelKey, slots int) int {
	var num [3]byte // a channel type is a byte
	crc := crcString(^uint32(0), "c:")
	crc = crcBytes(crc, strconv.AppendUint(num[:0], uint64(k.Type), 10))
	crc = crcString(crcString(crc, ":"), k.ID)
	return int(^crc % uint32(slots))
}

// SlotOfUser is the slot that owns user uid's tokens: the CRC32 of
// "u:<uid>".
func SlotOfUser(uid string, slots int) int {
	return int(^crcString(crcString(^uint32(0), "u:"), uid) % uint32(slots))
}

// crcString and crcBytes run the IEEE CRC32 (hash/crc32's ChecksumIEEE,
// before its final inversion) over s: byte by byte over the standard
// table, because crc32's own functions make their argument escape, and a
// key built for them cost an allocation per call.
func crcString(crc uint32, s string) uint32 {
	for i := 0; i < len(s); i++ {
		crc = crc32.IEEETable[byte(crc)^s[i]] ^ (crc >> 8)
	}
	return crc
}

func crcBytes(crc uint32, b []byte) uint32 {
	for _, c := range b {
		crc = crc32.IEEETable[byte(crc)^c] ^ (crc >> 8)
	}
	return crc
}
