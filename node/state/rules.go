package state

import "github.com/jindou-im/jindou/node/proto"

// sendFacts is what the send permission rule looks at, gathered from the
// applied state of the channel's slot.
type sendFacts struct {
	channelType proto.ChannelType
	// system senders bypass every check but the channel's existence.
	system bool
	info   ChannelInfo
	// subscriber: the sender subscribes to the (group) channel.
	subscriber bool
	// blacklisted: the sender is on the channel's blacklist, or for a
	// person channel on the peer's own blacklist.
	blacklisted bool
	// whitelistSet: the channel has an allowlist; whitelisted: the sender
	// is on it.
	whitelistSet, whitelisted bool
}

// sendRule decides whether a send may proceed: ReasonSuccess or the
// reason it is refused.
func sendRule(f sendFacts) proto.ReasonCode {
	switch {
	case !SupportedChannelType(f.channelType):
		return proto.ReasonNotSupportChannelType
	case openChannel(f.channelType):
		return proto.ReasonSuccess // as WuKongIM: anyone may write to these
	case SubscriberChannel(f.channelType) && !f.info.Exists:
		return proto.ReasonChannelNotExist
	case f.system:
		return proto.ReasonSuccess
	case f.info.Disband:
		return proto.ReasonDisband
	case f.info.Ban:
		return proto.ReasonBan
	case f.info.SendBan:
		return proto.ReasonSendBan
	case SubscriberChannel(f.channelType) && !f.subscriber:
		return proto.ReasonSubscriberNotExist
	case f.blacklisted:
		return proto.ReasonInBlacklist
	case f.whitelistSet && !f.whitelisted:
		return proto.ReasonNotInWhitelist
	}
	return proto.ReasonSuccess
}

// dedupeWindowHit reports whether a send at nowMs repeating one stored at
// storedMs is within the dedupe window and so returns the original.
func dedupeWindowHit(storedMs, nowMs, windowMs int64) bool {
	return nowMs-storedMs < windowMs
}

// unread is how many messages of a conversation uid has not read: every
// message after the read cursor, since a user's own message moves their
// cursor to it and so everything after it is from others.
func unread(lastSeq, readSeq uint64) uint64 {
	if readSeq >= lastSeq {
		return 0
	}
	return lastSeq - readSeq
}

// Pull modes of /channel/messagesync.
const (
	PullDown = 0
	PullUp   = 1
)

// SyncRange computes which seqs a /channel/messagesync request returns
// against a channel whose last seq is maxSeq: the inclusive range [lo, hi]
// (empty when lo > hi), and whether limit cut it.
//
//   - start = end = 0: the newest limit messages.
//   - up: from start (inclusive) to end (exclusive; 0 = no bound).
//   - down: the newest limit messages at or below start (start included, as
//     WuKongIM does; 0 = from the newest) and above end (exclusive; 0 = no
//     bound).
func SyncRange(start, end uint64, limit int, mode int, maxSeq uint64) (lo, hi uint64, more bool) {
	if limit <= 0 {
		limit = 100
	}
	n := uint64(limit)
	if start == 0 && end == 0 {
		mode, start = PullDown, maxSeq
	}
	if mode == PullUp {
		lo = max(start, 1)
		upper := maxSeq
		if end != 0 && end-1 < upper {
			upper = end - 1
		}
		if lo > upper {
			return 1, 0, false
		}
		hi = min(upper, lo+n-1)
		return lo, hi, hi < upper
	}
	hi = maxSeq
	if start != 0 && start < hi {
		hi = start
	}
	// end >= hi also keeps end+1 from overflowing (end = MaxUint64).
	if end >= hi {
		return 1, 0, false
	}
	floor := end + 1
	lo = floor
	if hi-floor+1 > n {
		lo = hi - n + 1
	}
	return lo, hi, lo > floor
}
