package state

import (
	"fmt"

	"github.com/jindou-im/jindou/node/proto"
)

// Operations of the replicated state machine. Each raft entry holds one
// Command; applying it is deterministic, so every replica of a slot ends in
// the same state and assigns the same seqs.
const (
	OpChannel       = "channel"        // create or update a channel, add subscribers
	OpChannelInfo   = "channel_info"   // update the info only
	OpChannelDelete = "channel_delete" // drop info, subscribers and lists (messages stay)
	OpSubAdd        = "sub_add"
	OpSubRemove     = "sub_remove"
	OpList          = "list" // blacklist / whitelist operations
	OpSend          = "send"
	OpToken         = "token"
	OpTokenClear    = "token_clear"
	OpSystemAdd     = "sysuid_add"
	OpSystemRemove  = "sysuid_remove"
	OpConvClear     = "conv_clear"
	OpConvSetUnread = "conv_set_unread"
	OpConvDelete    = "conv_delete"
	OpWebhookAck    = "webhook_ack" // delete the webhook outbox up to Seq, a message id (webhook.go)
)

// List operations.
const (
	ListAdd       = "add"
	ListSet       = "set"
	ListRemove    = "remove"
	ListRemoveAll = "remove_all"
)

// Proposal identifies who proposed an entry, so that the proposer (and only
// it) can complete the request when the entry is applied. Nonce is drawn
// fresh for every incarnation of a slot loop, so entries of an earlier
// incarnation, re-applied after a restart, complete nothing.
type Proposal struct {
	Node  uint64
	Nonce uint64
	N     uint64
}

// Command is one state machine operation; which fields matter depends on Op.
type Command struct {
	Op   string
	Prop Proposal
	// AtMs is the proposer's wall clock (unix ms): message timestamps, ids
	// and the dedupe window use it, never the applier's clock.
	AtMs  int64
	Ch    ChannelKey
	Info  *ChannelInfo
	UIDs  []string
	Reset bool
	// Table is tblBlacklist or tblWhitelist for OpList; ListOp says what to do.
	Table  byte
	ListOp string
	Send   *SendCmd
	// Token fields.
	UID   string
	Flag  int // -1: every flag (token_clear)
	Token string
	Level uint8
	// Conversation fields; Seq is also OpWebhookAck's message id and
	// OpRefuse's reason code.
	Seq    uint64
	Unread uint64
	// Event is OpEvent's event (events.go).
	Event *EventCmd
}

// SendCmd is a message to store.
type SendCmd struct {
	// ID is the message id the proposing leader gave out
	// (Machine.NextMessageID); apply keeps it when it is above the slot's
	// last applied id.
	ID          int64
	From        string
	ClientMsgNo string
	Header      Header
	Setting     proto.Setting
	Expire      uint32
	Topic       string
	Payload     []byte
	StreamNo    string // the SEND's stream_no (stream setting only)
}

// EncodeCommand is a command as a raft entry's data.
func EncodeCommand(c *Command) []byte { return appendRecord(make([]byte, 0, commandSizeHint(c)), c) }

// EncodeCommand is state.EncodeCommand with the machine's encoder: one
// allocation, the entry's data (raft keeps it).
func (m *Machine) EncodeCommand(c *Command) []byte {
	return m.appendRecord(make([]byte, 0, commandSizeHint(c)), c)
}

// commandSizeHint is about the size of c's encoding: its variable parts
// and room for the fixed ones, so that encoding it rarely grows the slice.
func commandSizeHint(c *Command) int {
	n := 64 + len(c.Op) + len(c.Ch.ID) + len(c.UID) + len(c.Token) + len(c.ListOp)
	for _, u := range c.UIDs {
		n += len(u) + 2
	}
	if s := c.Send; s != nil {
		n += 32 + len(s.From) + len(s.ClientMsgNo) + len(s.Topic) + len(s.Payload) + len(s.StreamNo)
	}
	return n
}

// DecodeCommand is the inverse of EncodeCommand; a corrupt entry panics
// (the log is checksummed by Pebble: corruption there is not input).
func DecodeCommand(data []byte) *Command {
	c := new(Command)
	// decode's path, but with the decoder on the stack: through the
	// unmarshaler interface it escapes, an allocation per entry.
	if len(data) == 0 || data[0] != recordFormat {
		panic(fmt.Sprintf("node: %T: %v: format %v", c, ErrCorruptRecord, data[:min(len(data), 1)]))
	}
	d := dec{b: data[1:]}
	c.unmarshal(&d)
	if err := d.done(); err != nil {
		panic(fmt.Sprintf("node: %T: %v", c, err))
	}
	return c
}

// internOp is the op b names: a constant, without allocating, for the
// known ones (the send's first).
func internOp(b []byte) string {
	switch string(b) {
	case OpSend:
		return OpSend
	case OpChannel:
		return OpChannel
	case OpChannelInfo:
		return OpChannelInfo
	case OpChannelDelete:
		return OpChannelDelete
	case OpSubAdd:
		return OpSubAdd
	case OpSubRemove:
		return OpSubRemove
	case OpList:
		return OpList
	case OpToken:
		return OpToken
	case OpTokenClear:
		return OpTokenClear
	case OpSystemAdd:
		return OpSystemAdd
	case OpSystemRemove:
		return OpSystemRemove
	case OpConvClear:
		return OpConvClear
	case OpConvSetUnread:
		return OpConvSetUnread
	case OpConvDelete:
		return OpConvDelete
	case OpWebhookAck:
		return OpWebhookAck
	case OpRefuse:
		return OpRefuse
	}
	return string(b)
}

// ParseCommand is DecodeCommand for bytes that may be anything: a corrupt
// command is an error (ErrCorruptRecord), never a panic.
func ParseCommand(data []byte) (*Command, error) {
	var c Command
	if err := decodeRecord(data, &c); err != nil {
		return nil, err
	}
	return &c, nil
}
