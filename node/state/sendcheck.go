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

// Facts reads the send rule's facts of any slot: through that slot's
// Machine where the caller owns it, from the store otherwise.
type Facts interface {
	Channel(slot int, ch ChannelKey) ChannelRecord
	IsMember(slot int, table byte, ch ChannelKey, uid string) bool
}

// CheckSend gathers the facts of the send rule and decides the send:
// ReasonSuccess or the reason it is refused. A person channel's facts live
// with the peer's own channel (channel_id = the protected uid), which may
// be another slot: those are read through facts.
func (m *Machine) CheckSend(r pebble.Reader, slots int, facts Facts, sc SendCheck) proto.ReasonCode {
	ch := sc.Ch
	f := sendFacts{channelType: ch.Type, system: sc.System}
	if !SupportedChannelType(ch.Type) {
		return sendRule(f)
	}
	if SubscriberChannel(ch.Type) {
		rec := m.Channel(r, ch)
		f.info, f.whitelistSet = rec.Info, rec.WhitelistSize > 0
		f.subscriber = m.IsMember(r, tblSubscriber, ch, sc.From)
		f.blacklisted = m.IsMember(r, tblBlacklist, ch, sc.From)
		f.whitelisted = f.whitelistSet && m.IsMember(r, tblWhitelist, ch, sc.From)
		return sendRule(f)
	}
	return DecidePerson(ReadPersonFacts(facts, slots, ch, sc.From), sc.System)
}

// PersonFacts are a person send's facts that live with the recipient's
// own channel (channel_id = the recipient's uid): its info, and whether
// the sender is on its blacklist and, if it has one, its whitelist.
type PersonFacts struct {
	Info                                   ChannelInfo
	Blacklisted, WhitelistSet, Whitelisted bool
}

// PersonFactsSlot is the slot that holds the facts of a send from from to
// the person channel ch (as stored).
func PersonFactsSlot(ch ChannelKey, from string, slots int) int {
	return SlotOfChannel(personOwn(ch, from), slots)
}

func personOwn(ch ChannelKey, from string) ChannelKey {
	return ChannelKey{Type: proto.ChannelPerson, ID: ch.PeerOf(from)}
}

// ReadPersonFacts reads the facts of a send from from to the person
// channel ch through facts.
func ReadPersonFacts(facts Facts, slots int, ch ChannelKey, from string) PersonFacts {
	own := personOwn(ch, from)
	ps := SlotOfChannel(own, slots)
	prec := facts.Channel(ps, own)
	pf := PersonFacts{Info: prec.Info, WhitelistSet: prec.WhitelistSize > 0}
	pf.Blacklisted = facts.IsMember(ps, tblBlacklist, own, from)
	pf.Whitelisted = pf.WhitelistSet && facts.IsMember(ps, tblWhitelist, own, from)
	return pf
}

// DecidePerson decides a person send from its facts, however they were
// read (here, or by the slot that holds them on another node).
func DecidePerson(pf PersonFacts, system bool) proto.ReasonCode {
	f := sendFacts{channelType: proto.ChannelPerson, system: system, info: pf.Info,
		blacklisted: pf.Blacklisted, whitelistSet: pf.WhitelistSet, whitelisted: pf.Whitelisted}
	f.info.Exists = true
	return sendRule(f)
}

func has(r pebble.Reader, key []byte) bool { _, ok := GetValue(r, key); return ok }
