package node

import "github.com/jindou-im/jindou/node/proto"

// Operations of the replicated state machine. Each raft entry holds one
// command; applying it is deterministic, so every replica of a slot ends in
// the same state and assigns the same seqs.
const (
	opChannel       = "channel"        // create or update a channel, add subscribers
	opChannelInfo   = "channel_info"   // update the info only
	opChannelDelete = "channel_delete" // drop info, subscribers and lists (messages stay)
	opSubAdd        = "sub_add"
	opSubRemove     = "sub_remove"
	opList          = "list" // blacklist / whitelist operations
	opSend          = "send"
	opToken         = "token"
	opTokenClear    = "token_clear"
	opSystemAdd     = "sysuid_add"
	opSystemRemove  = "sysuid_remove"
	opConvClear     = "conv_clear"
	opConvSetUnread = "conv_set_unread"
	opConvDelete    = "conv_delete"
)

// List operations.
const (
	listAdd       = "add"
	listSet       = "set"
	listRemove    = "remove"
	listRemoveAll = "remove_all"
)

// proposal identifies who proposed an entry, so that the proposer (and only
// it) can complete the request when the entry is applied. Nonce is drawn
// fresh for every incarnation of a slot loop, so entries of an earlier
// incarnation, re-applied after a restart, complete nothing.
type proposal struct {
	Node  uint64 `json:"n,omitempty"`
	Nonce uint64 `json:"o,omitempty"`
	N     uint64 `json:"i,omitempty"`
}

// command is one state machine operation; which fields matter depends on Op.
type command struct {
	Op   string   `json:"op"`
	Prop proposal `json:"prop"`
	// AtMs is the proposer's wall clock (unix ms): message timestamps, ids
	// and the dedupe window use it, never the applier's clock.
	AtMs  int64        `json:"at"`
	Ch    ChannelKey   `json:"ch"`
	Info  *ChannelInfo `json:"info,omitempty"`
	UIDs  []string     `json:"uids,omitempty"`
	Reset bool         `json:"reset,omitempty"`
	// Table is tblBlacklist or tblWhitelist for opList; ListOp says what to do.
	Table  byte     `json:"tbl,omitempty"`
	ListOp string   `json:"lop,omitempty"`
	Send   *sendCmd `json:"send,omitempty"`
	// Token fields.
	UID   string `json:"uid,omitempty"`
	Flag  int    `json:"flag,omitempty"` // -1: every flag (token_clear)
	Token string `json:"token,omitempty"`
	Level uint8  `json:"level,omitempty"`
	// Conversation fields.
	Seq    uint64 `json:"seq,omitempty"`
	Unread uint64 `json:"unread,omitempty"`
}

// sendCmd is a message to store.
type sendCmd struct {
	From        string        `json:"from"`
	ClientMsgNo string        `json:"cmn"`
	Header      Header        `json:"h"`
	Setting     proto.Setting `json:"set,omitempty"`
	Expire      uint32        `json:"exp,omitempty"`
	Topic       string        `json:"topic,omitempty"`
	Payload     []byte        `json:"p"`
}
