package state

import (
	"crypto/subtle"
	"slices"

	"github.com/cockroachdb/pebble/v2"
	"github.com/jindou-im/jindou/node/proto"
)

// Reads of a slot's applied state. The slot loop serves them once the slot
// has caught up (its leader has applied everything committed before), so
// that a read never returns less than what was acknowledged before it.

// Lists a channel has besides its subscribers.
const (
	Blacklist byte = tblBlacklist
	Whitelist byte = tblWhitelist
)

// ParseList names a list table: "blacklist" or "whitelist".
func ParseList(name string) (byte, bool) {
	switch name {
	case "blacklist":
		return Blacklist, true
	case "whitelist":
		return Whitelist, true
	}
	return 0, false
}

// ListMembers lists a channel's blacklist or whitelist, sorted.
func (m *Machine) ListMembers(r pebble.Reader, list byte, ch ChannelKey) []string {
	return orEmpty(readMembers(r, memberPrefix(m.slot, list, ch)))
}

// Recipients are the uids a message of ch goes to, sorted: a person
// channel's two users, another channel's subscribers (and a customer
// service channel's visitor).
func (m *Machine) Recipients(r pebble.Reader, ch ChannelKey) []string {
	if ch.Type == proto.ChannelPerson {
		return ch.PersonMembers()
	}
	if set := m.cache.memberSet(r, m.slot, memberSet{tblSubscriber, ch}); set != nil {
		return withVisitor(ch, set.sorted)
	}
	return withVisitor(ch, readMembers(r, memberPrefix(m.slot, tblSubscriber, ch)))
}

// SystemUIDs lists the system accounts (kept in slot 0), sorted.
func SystemUIDs(r pebble.Reader) []string {
	return orEmpty(readMembers(r, tableKey(0, tblSystemUID)))
}

// CheckToken reports whether token is uid's for the device flag, in
// constant time, and the token's device level.
func (m *Machine) CheckToken(r pebble.Reader, uid string, flag uint8, token string) (ok bool, level uint8) {
	var rec tokenRecord
	v, found := GetValue(r, tokenKey(m.slot, uid, flag))
	if found {
		decode(v, &rec)
	}
	match := subtle.ConstantTimeCompare([]byte(rec.Token), []byte(token)) == 1
	return found && token != "" && match, rec.Level
}

// MaxSeq is a channel's last seq.
func (m *Machine) MaxSeq(r pebble.Reader, ch ChannelKey) uint64 { return m.Channel(r, ch).LastSeq }

// Sync reads the range of a channel's messages that a history sync asks
// for (see SyncRange), oldest first, and whether limit cut it.
func (m *Machine) Sync(r pebble.Reader, ch ChannelKey, start, end uint64, limit, mode int) ([]*Message, bool) {
	lo, hi, more := SyncRange(start, end, limit, mode, m.Channel(r, ch).LastSeq)
	msgs := ReadMessages(r, m.slot, ch, lo, hi)
	if msgs == nil {
		msgs = []*Message{}
	}
	return msgs, more
}

// MessagesAt reads the messages of ch at seqs, in the order asked; missing
// ones are left out.
func (m *Machine) MessagesAt(r pebble.Reader, ch ChannelKey, seqs []uint64) []*Message {
	out := []*Message{}
	for _, seq := range seqs {
		if msg := ReadMessage(r, m.slot, ch, seq); msg != nil {
			out = append(out, msg)
		}
	}
	return out
}

// Conversation is one of a user's recent chats.
type Conversation struct {
	Channel         ChannelKey // as stored
	Unread          uint64
	Timestamp       int32
	LastMsgSeq      uint64
	LastClientMsgNo string
	ReadToMsgSeq    uint64
	Recents         []*Message
}

// ConversationQuery selects a user's conversations.
type ConversationQuery struct {
	UID string
	// MsgCount is how many recent messages each carries (0: none).
	MsgCount     int
	OnlyUnread   bool
	ExcludeTypes []proto.ChannelType
}

// Conversations lists q.UID's conversations in the slot, in channel key
// order. A conversation lives in its channel's slot, so a user's whole list
// is the union over all slots.
func (m *Machine) Conversations(r pebble.Reader, q ConversationQuery) []Conversation {
	var out []Conversation
	prefix := conversationPrefix(m.slot, q.UID)
	Scan(r, prefix, func(k, v []byte) {
		ch := ChannelKey{Type: proto.ChannelType(k[len(prefix)]), ID: string(k[len(prefix)+1 : len(k)-1])}
		if slices.Contains(q.ExcludeTypes, ch.Type) || (ch.Type == proto.ChannelPerson && ch.PeerOf(q.UID) == SystemUID) {
			return // system notices reach users as RECVs, not as a conversation
		}
		var conv convRecord
		decode(v, &conv)
		if c, ok := m.conversation(r, q, ch, conv); ok {
			out = append(out, c)
		}
	})
	return out
}

func (m *Machine) conversation(r pebble.Reader, q ConversationQuery, ch ChannelKey, conv convRecord) (Conversation, bool) {
	rec := m.Channel(r, ch)
	if rec.LastSeq == 0 || rec.LastSeq <= conv.DeletedSeq {
		return Conversation{}, false
	}
	c := Conversation{Channel: ch, Unread: unread(rec.LastSeq, conv.ReadSeq), Timestamp: rec.LastTimestamp,
		LastMsgSeq: rec.LastSeq, ReadToMsgSeq: conv.ReadSeq}
	if q.OnlyUnread && c.Unread == 0 {
		return Conversation{}, false
	}
	if last := ReadMessage(r, m.slot, ch, rec.LastSeq); last != nil {
		c.LastClientMsgNo = last.ClientMsgNo
	}
	if q.MsgCount > 0 {
		lo := uint64(1)
		if rec.LastSeq > uint64(q.MsgCount) {
			lo = rec.LastSeq - uint64(q.MsgCount) + 1
		}
		c.Recents = ReadMessages(r, m.slot, ch, max(lo, conv.DeletedSeq+1), rec.LastSeq)
	}
	return c, true
}

func orEmpty(uids []string) []string {
	if uids == nil {
		return []string{}
	}
	return uids
}
