package state

import "github.com/jindou-im/jindou/node/proto"

// ChannelInfo is a channel's settings, as set by /channel and /channel/info.
type ChannelInfo struct {
	// Exists is set once a group channel is created (by the API or by adding
	// subscribers). Person channels exist implicitly.
	Exists        bool `json:"exists"`
	Large         bool `json:"large,omitempty"`
	Ban           bool `json:"ban,omitempty"`
	Disband       bool `json:"disband,omitempty"`
	SendBan       bool `json:"send_ban,omitempty"`
	AllowStranger bool `json:"allow_stranger,omitempty"`
}

// ChannelRecord is a channel's stored state.
type ChannelRecord struct {
	Info ChannelInfo `json:"info"`
	// LastSeq is the seq of the newest stored message; seqs are 1..LastSeq
	// without gaps.
	LastSeq uint64 `json:"last_seq,omitempty"`
	// LastTimestamp is the newest message's time, unix seconds.
	LastTimestamp int32 `json:"last_ts,omitempty"`
	// WhitelistSize counts the whitelist's members (0: no allowlist).
	WhitelistSize int `json:"wl,omitempty"`
	// Convs: a person channel's conversations exist for both users.
	Convs bool `json:"convs,omitempty"`
}

// Header is the message header of the API (and of the frame flags).
type Header struct {
	NoPersist bool `json:"no_persist"`
	RedDot    bool `json:"red_dot"`
	SyncOnce  bool `json:"sync_once"`
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
	MessageID   int64         `json:"id"`
	Seq         uint64        `json:"seq"`
	ClientMsgNo string        `json:"cmn"`
	FromUID     string        `json:"from"`
	Channel     ChannelKey    `json:"ch"`
	Timestamp   int32         `json:"ts"`
	Header      Header        `json:"h"`
	Setting     proto.Setting `json:"set,omitempty"`
	Expire      uint32        `json:"exp,omitempty"`
	Topic       string        `json:"topic,omitempty"`
	Payload     []byte        `json:"p"`
}

// dedupeRecord remembers a stored send for the dedupe window.
type dedupeRecord struct {
	Seq       uint64 `json:"seq"`
	MessageID int64  `json:"id"`
	AtMs      int64  `json:"at"`
}

// convRecord is a user's conversation in a channel. It lives in the
// channel's slot; the channel record supplies the last message.
type convRecord struct {
	// ReadSeq is the read cursor: unread = LastSeq - ReadSeq.
	ReadSeq uint64 `json:"read"`
	// DeletedSeq hides the conversation until a message above it arrives.
	DeletedSeq uint64 `json:"del,omitempty"`
}

// tokenRecord is a user's token for one device flag.
type tokenRecord struct {
	Token string `json:"token"`
	Level uint8  `json:"level"`
}

// slotMeta is per-slot state of the state machine.
type slotMeta struct {
	// LastID is the last message id the slot applied: the next one is
	// above it (NextMessageID).
	LastID int64 `json:"last"`
}
