package node

import (
	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/node/state"
)

// The state machine's types that the node's users (the HTTP layer, the
// simulated world) name, under the node's name: node/state owns them.
type (
	// ChannelKey names a channel as stored.
	ChannelKey = state.ChannelKey
	// ChannelInfo is a channel's settings.
	ChannelInfo = state.ChannelInfo
	// Header is a message's header.
	Header = state.Header
	// Message is a stored message.
	Message = state.Message
	// Conversation is one of a user's recent chats.
	Conversation = state.Conversation
)

// SystemUID is the sender of messages the back end sends without a
// from_uid.
const SystemUID = state.SystemUID

// Pull modes of /channel/messagesync.
const (
	PullDown = state.PullDown
	PullUp   = state.PullUp
)

// SupportedChannelType reports whether Jindou serves channels of typ;
// SupportedTypesText lists them for error messages (see node/state).
func SupportedChannelType(typ proto.ChannelType) bool { return state.SupportedChannelType(typ) }

const SupportedTypesText = state.SupportedTypesText

// PersonChannelID is the id under which the person chat of a and b is
// stored (see state.PersonChannelID).
func PersonChannelID(a, b string) string { return state.PersonChannelID(a, b) }
