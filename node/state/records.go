package state

import "github.com/jindou-im/jindou/node/proto"

// ChannelInfo is a channel's settings, as set by /channel and /channel/info.
type ChannelInfo struct {
	// Exists is set once a group channel is created (by the API or by adding
	// subscribers). Person channels exist implicitly.
	Exists        bool
	Large         bool
	Ban           bool
	Disband       bool
	SendBan       bool
	AllowStranger bool
}

// ChannelRecord is a channel's stored state.
type ChannelRecord struct {
	Info ChannelInfo
	// LastSeq is the seq of the newest stored message; seqs are 1..LastSeq
	// without gaps.
	LastSeq uint64
	// LastTimestamp is the newest message's time, unix seconds.
	LastTimestamp int32
	// WhitelistSize counts the whitelist's members (0: no allowlist).
	WhitelistSize int
	// Convs: a person channel's conversations exist for both users.
	Convs bool
}

// Header is the message header of the API (and of the frame flags).
type Header struct {
	NoPersist bool
	RedDot    bool
	SyncOnce  bool
}

// Flags are the header as a frame's flag bits.
func (h Header) Flags() proto.Flags {
	var f proto.Flags
	if h.NoPersist {
		f |= proto.FlagNoPersist
	}
	if h.RedDot {
		f |= proto.FlagRedDot
	}
	if h.SyncOnce {
		f |= proto.FlagSyncOnce
	}
	return f
}

// HeaderOf reads a header from a frame's flag bits.
func HeaderOf(f proto.Flags) Header {
	return Header{NoPersist: f&proto.FlagNoPersist != 0, RedDot: f&proto.FlagRedDot != 0, SyncOnce: f&proto.FlagSyncOnce != 0}
}

// Message is a stored message. Payload is the plaintext.
type Message struct {
	MessageID   int64
	Seq         uint64
	ClientMsgNo string
	FromUID     string
	Channel     ChannelKey
	Timestamp   int32
	Header      Header
	Setting     proto.Setting
	Expire      uint32
	Topic       string
	Payload     []byte
	// StreamNo is the stream a SEND with the stream setting named (empty
	// otherwise); RECVs carry it back on versions 2-4.
	StreamNo string
}

// dedupeRecord remembers a stored send for the dedupe window, or a
// refused one (Refused set, Seq 0: refuse.go).
type dedupeRecord struct {
	Seq       uint64
	MessageID int64
	AtMs      int64
	Refused   proto.ReasonCode
}

// convRecord is a user's conversation in a channel. It lives in the
// channel's slot; the channel record supplies the last message.
type convRecord struct {
	// ReadSeq is the read cursor: unread = LastSeq - ReadSeq.
	ReadSeq uint64
	// DeletedSeq hides the conversation until a message above it arrives.
	DeletedSeq uint64
}

// tokenRecord is a user's token for one device flag.
type tokenRecord struct {
	Token string
	Level uint8
}

// slotMeta is per-slot state of the state machine.
type slotMeta struct {
	// LastID is the last message id the slot applied: the next one is
	// above it (NextMessageID).
	LastID int64
}
