package state

import (
	"slices"
	"strings"

	"github.com/jindou-im/jindou/node/proto"
)

// Channel types, with WuKongIM v2.2.5's semantics:
//
//   - person (1): two users; permissions from the recipient's own channel.
//   - group (2), community (4), community topic (5), data (7), live (9):
//     must be created; subscribers send and receive; ban, send_ban, disband
//     and the lists apply. Data and live channels keep no conversations
//     (WuKongIM: "live channels do not save recent conversations"; their
//     messages are stored, and their audience is the subscribers the API
//     sets: WuKongIM v2.2.5 ignores SUB).
//   - customer service (3), info (6): open channels (WuKongIM's "public"
//     types): anyone may send, unchecked; subscribers receive, and for
//     customer service also the visitor its id names ("visitor|...").
//   - temporary (8): a channel whose subscribers the back end sets in one
//     call (POST /tmpchannel/subscriber_set, which replaces them); group
//     rules otherwise; no conversations (WuKongIM skips them for temporary
//     channels). WuKongIM keeps a temporary channel's subscribers in a
//     per-node cache (a tag); Jindou stores them like any channel's, so
//     they survive a restart and every node sees them.
//
// Visitors (10) and agent channels (11, 12) are refused
// (NotSupportChannelType).

// SupportedTypesText lists the channel types Jindou serves, for errors.
const SupportedTypesText = "1 person, 2 group, 3 customer service, 4 community, 5 community topic, 6 info, 7 data, 8 temporary, 9 live"

// SupportedChannelType reports whether Jindou serves channels of typ.
func SupportedChannelType(typ proto.ChannelType) bool {
	switch typ {
	case proto.ChannelPerson, proto.ChannelGroup, proto.ChannelCustomerService, proto.ChannelCommunity,
		proto.ChannelCommunityTopic, proto.ChannelInfo, proto.ChannelData, proto.ChannelTemp, proto.ChannelLive:
		return true
	}
	return false
}

// SubscriberChannel: typ's messages go to its subscribers (every
// supported type but person).
func SubscriberChannel(typ proto.ChannelType) bool {
	return typ != proto.ChannelPerson && SupportedChannelType(typ)
}

// openChannel: anyone may send to typ's channels, unchecked.
func openChannel(typ proto.ChannelType) bool {
	return typ == proto.ChannelCustomerService || typ == proto.ChannelInfo
}

// keepsConversations: messages of typ's channels show in conversations.
func keepsConversations(typ proto.ChannelType) bool {
	return typ != proto.ChannelData && typ != proto.ChannelLive && typ != proto.ChannelTemp
}

// withVisitor adds a customer-service channel's visitor ("visitor|..."
// names it) to its subscribers, sorted; other channels' are returned as
// they are.
func withVisitor(ch ChannelKey, subscribers []string) []string {
	if ch.Type != proto.ChannelCustomerService {
		return subscribers
	}
	visitor, _, ok := strings.Cut(ch.ID, "|")
	if !ok || visitor == "" || ValidUID(visitor) != nil {
		return subscribers
	}
	i, found := slices.BinarySearch(subscribers, visitor)
	if found {
		return subscribers
	}
	return slices.Insert(slices.Clone(subscribers), i, visitor)
}
