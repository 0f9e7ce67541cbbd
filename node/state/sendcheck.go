package state

import (
	"github.com/cockroachdb/pebble/v2"
	"github.com/jindou-im/jindou/node/proto"
)

// SendCheck is a send to decide: who sends to which channel.
type SendCheck struct {
	Ch   ChannelKey
	From string
	// System: the sender is a system account (or the API's system
	// sender); it bypasses every check but the channel's existence.
	System bool
}

// ChannelLookup reads a channel record of any slot: through that slot's
// Machine where the caller owns it, from the store otherwise.
type ChannelLookup func(slot int, ch ChannelKey) ChannelRecord

// CheckSend gathers the facts of the send rule and decides the send:
// ReasonSuccess or the reason it is refused. A person channel's facts live
// with the peer's own channel (channel_id = the protected uid), which may
// be another slot: those are read from r through channels.
func (m *Machine) CheckSend(r pebble.Reader, slots int, channels ChannelLookup, sc SendCheck) proto.ReasonCode {
	ch := sc.Ch
	f := sendFacts{channelType: ch.Type, system: sc.System}
	if !SupportedChannelType(ch.Type) {
		return sendRule(f)
	}
	if ch.Type == proto.ChannelGroup {
		rec := m.Channel(r, ch)
		f.info, f.whitelistSet = rec.Info, rec.WhitelistSize > 0
		f.subscriber = has(r, memberKey(m.slot, tblSubscriber, ch, sc.From))
		f.blacklisted = has(r, memberKey(m.slot, tblBlacklist, ch, sc.From))
		f.whitelisted = f.whitelistSet && has(r, memberKey(m.slot, tblWhitelist, ch, sc.From))
		return sendRule(f)
	}
	own := ChannelKey{Type: proto.ChannelPerson, ID: ch.PeerOf(sc.From)}
	ps := SlotOfChannel(own, slots)
	prec := channels(ps, own)
	f.blacklisted = has(r, memberKey(ps, tblBlacklist, own, sc.From))
	f.whitelistSet = prec.WhitelistSize > 0
	f.whitelisted = f.whitelistSet && has(r, memberKey(ps, tblWhitelist, own, sc.From))
	f.info = prec.Info
	f.info.Exists = true
	return sendRule(f)
}

func has(r pebble.Reader, key []byte) bool { _, ok := GetValue(r, key); return ok }
