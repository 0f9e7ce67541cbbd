package state

import (
	"fmt"
	"math"
	"testing"

	"github.com/jindou-im/jindou/node/proto"
	"pgregory.net/rapid"
)

func TestCheckSendReasonsAndPrecedence(t *testing.T) {
	const (
		person = proto.ChannelPerson
		group  = proto.ChannelGroup
	)
	exists := ChannelInfo{Exists: true}
	member := func(f sendFacts) sendFacts { f.subscriber = true; return f }
	g := func(info ChannelInfo) sendFacts { return sendFacts{channelType: group, info: info} }
	for _, c := range []struct {
		name string
		f    sendFacts
		want proto.ReasonCode
	}{
		// Unsupported types, whatever else holds.
		{"visitors type", sendFacts{channelType: proto.ChannelVisitors, info: exists, subscriber: true}, proto.ReasonNotSupportChannelType},
		{"visitors type", sendFacts{channelType: proto.ChannelVisitors, info: exists, subscriber: true}, proto.ReasonNotSupportChannelType},
		{"live needs a subscriber", sendFacts{channelType: proto.ChannelLive, info: exists}, proto.ReasonSubscriberNotExist},
		{"customer service is open", sendFacts{channelType: proto.ChannelCustomerService, info: ChannelInfo{Ban: true}, blacklisted: true}, proto.ReasonSuccess},
		{"info is open", sendFacts{channelType: proto.ChannelInfo}, proto.ReasonSuccess},
		{"community needs a subscriber", sendFacts{channelType: proto.ChannelCommunity, info: exists}, proto.ReasonSubscriberNotExist},
		{"community topic must exist", sendFacts{channelType: proto.ChannelCommunityTopic, subscriber: true}, proto.ReasonChannelNotExist},
		{"data channel ban", sendFacts{channelType: proto.ChannelData, info: ChannelInfo{Exists: true, Ban: true}, subscriber: true}, proto.ReasonBan},
		{"type 0", sendFacts{channelType: 0}, proto.ReasonNotSupportChannelType},
		{"type 255 system", sendFacts{channelType: 255, system: true, info: exists}, proto.ReasonNotSupportChannelType},
		{"visitors type beats banned", sendFacts{channelType: proto.ChannelVisitors, info: ChannelInfo{Ban: true}}, proto.ReasonNotSupportChannelType},

		// A group must exist, even for system senders.
		{"group missing", g(ChannelInfo{}), proto.ReasonChannelNotExist},
		{"group missing, member", member(g(ChannelInfo{})), proto.ReasonChannelNotExist},
		{"group missing, system", sendFacts{channelType: group, system: true}, proto.ReasonChannelNotExist},
		{"group missing beats disband", g(ChannelInfo{Disband: true}), proto.ReasonChannelNotExist},

		// System senders bypass every other check.
		{"system bypasses disband ban sendban", sendFacts{channelType: group, system: true, info: ChannelInfo{Exists: true, Disband: true, Ban: true, SendBan: true}}, proto.ReasonSuccess},
		{"system bypasses membership", sendFacts{channelType: group, system: true, info: exists}, proto.ReasonSuccess},
		{"system bypasses lists", sendFacts{channelType: group, system: true, info: exists, blacklisted: true, whitelistSet: true}, proto.ReasonSuccess},
		{"system person", sendFacts{channelType: person, system: true, blacklisted: true, info: ChannelInfo{Ban: true}}, proto.ReasonSuccess},

		// Channel state, in order disband > ban > send_ban.
		{"disband", member(g(ChannelInfo{Exists: true, Disband: true, Ban: true, SendBan: true})), proto.ReasonDisband},
		{"ban", member(g(ChannelInfo{Exists: true, Ban: true, SendBan: true})), proto.ReasonBan},
		{"send_ban", member(g(ChannelInfo{Exists: true, SendBan: true})), proto.ReasonSendBan},
		{"disband beats non-member", g(ChannelInfo{Exists: true, Disband: true}), proto.ReasonDisband},
		{"ban beats non-member", g(ChannelInfo{Exists: true, Ban: true}), proto.ReasonBan},
		{"send_ban beats non-member", g(ChannelInfo{Exists: true, SendBan: true}), proto.ReasonSendBan},
		{"send_ban beats blacklist", sendFacts{channelType: group, info: ChannelInfo{Exists: true, SendBan: true}, subscriber: true, blacklisted: true}, proto.ReasonSendBan},

		// Membership, then lists.
		{"not subscriber", g(exists), proto.ReasonSubscriberNotExist},
		{"not subscriber beats blacklist", sendFacts{channelType: group, info: exists, blacklisted: true}, proto.ReasonSubscriberNotExist},
		{"not subscriber beats whitelist", sendFacts{channelType: group, info: exists, whitelistSet: true}, proto.ReasonSubscriberNotExist},
		{"blacklist", sendFacts{channelType: group, info: exists, subscriber: true, blacklisted: true}, proto.ReasonInBlacklist},
		{"blacklist beats whitelist", sendFacts{channelType: group, info: exists, subscriber: true, blacklisted: true, whitelistSet: true}, proto.ReasonInBlacklist},
		{"blacklisted though whitelisted", sendFacts{channelType: group, info: exists, subscriber: true, blacklisted: true, whitelistSet: true, whitelisted: true}, proto.ReasonInBlacklist},
		{"not in whitelist", sendFacts{channelType: group, info: exists, subscriber: true, whitelistSet: true}, proto.ReasonNotInWhitelist},
		{"whitelisted", sendFacts{channelType: group, info: exists, subscriber: true, whitelistSet: true, whitelisted: true}, proto.ReasonSuccess},
		{"whitelisted flag without a whitelist", sendFacts{channelType: group, info: exists, subscriber: true, whitelisted: true}, proto.ReasonSuccess},
		{"group success", member(g(exists)), proto.ReasonSuccess},
		{"group success with allow_stranger and large", member(g(ChannelInfo{Exists: true, Large: true, AllowStranger: true})), proto.ReasonSuccess},

		// Person channels: no existence, no subscription needed.
		{"person success", sendFacts{channelType: person}, proto.ReasonSuccess},
		{"person disband", sendFacts{channelType: person, info: ChannelInfo{Disband: true}}, proto.ReasonDisband},
		{"person ban", sendFacts{channelType: person, info: ChannelInfo{Ban: true}}, proto.ReasonBan},
		{"person send_ban", sendFacts{channelType: person, info: ChannelInfo{SendBan: true}}, proto.ReasonSendBan},
		{"person blacklist", sendFacts{channelType: person, blacklisted: true}, proto.ReasonInBlacklist},
		{"person blacklist beats whitelist", sendFacts{channelType: person, blacklisted: true, whitelistSet: true}, proto.ReasonInBlacklist},
		{"person not in whitelist", sendFacts{channelType: person, whitelistSet: true}, proto.ReasonNotInWhitelist},
		{"person whitelisted", sendFacts{channelType: person, whitelistSet: true, whitelisted: true}, proto.ReasonSuccess},
	} {
		if got := sendRule(c.f); got != c.want {
			t.Errorf("%s: sendRule(%+v) = %d, want %d", c.name, c.f, got, c.want)
		}
	}
}

// checkSendModel states the rule as a list of refusal conditions, first
// match wins.
func checkSendModel(f sendFacts) proto.ReasonCode {
	t := f.channelType
	if t == 0 || t > proto.ChannelLive {
		return proto.ReasonNotSupportChannelType
	}
	if t == proto.ChannelCustomerService || t == proto.ChannelInfo {
		return proto.ReasonSuccess
	}
	group := t != proto.ChannelPerson // group, community, community topic, data, temporary, live
	if group && !f.info.Exists {
		return proto.ReasonChannelNotExist
	}
	if f.system {
		return proto.ReasonSuccess
	}
	for _, r := range []struct {
		refused bool
		code    proto.ReasonCode
	}{
		{f.info.Disband, proto.ReasonDisband},
		{f.info.Ban, proto.ReasonBan},
		{f.info.SendBan, proto.ReasonSendBan},
		{group && !f.subscriber, proto.ReasonSubscriberNotExist},
		{f.blacklisted, proto.ReasonInBlacklist},
		{f.whitelistSet && !f.whitelisted, proto.ReasonNotInWhitelist},
	} {
		if r.refused {
			return r.code
		}
	}
	return proto.ReasonSuccess
}

func TestCheckSendMatchesRuleOverAllFacts(t *testing.T) {
	// Every combination of the boolean facts, for types 0..9.
	for typ := range 10 {
		for bits := range 1 << 10 {
			b := func(i int) bool { return bits&(1<<i) != 0 }
			f := sendFacts{
				channelType: proto.ChannelType(typ), system: b(0),
				info:       ChannelInfo{Exists: b(1), Disband: b(2), Ban: b(3), SendBan: b(4)},
				subscriber: b(5), blacklisted: b(6), whitelistSet: b(7), whitelisted: b(8),
			}
			f.info.Large = b(9)
			if got, want := sendRule(f), checkSendModel(f); got != want {
				t.Fatalf("sendRule(%+v) = %d, want %d", f, got, want)
			}
		}
	}
}

func TestDedupeWindowHitAtEdges(t *testing.T) {
	const w = 1000
	for _, c := range []struct {
		stored, now int64
		want        bool
	}{
		{5000, 5000, true},          // same instant
		{5000, 5000 + w - 1, true},  // last millisecond inside
		{5000, 5000 + w, false},     // exactly the window: expired
		{5000, 5000 + w + 1, false}, // past
		{5000, 4000, true},          // clock went backwards: still a repeat
		{0, w - 1, true},
		{0, w, false},
	} {
		if got := dedupeWindowHit(c.stored, c.now, w); got != c.want {
			t.Errorf("dedupeWindowHit(%d, %d, %d) = %v, want %v", c.stored, c.now, w, got, c.want)
		}
	}
	day := int64(24 * 3600 * 1000)
	now := int64(1_760_000_000_000)
	if !dedupeWindowHit(now-day+1, now, day) || dedupeWindowHit(now-day, now, day) {
		t.Error("a day's window at real timestamps")
	}
}

func TestUnreadIsLastMinusReadNeverNegative(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		last := rapid.Uint64().Draw(t, "last")
		read := rapid.Uint64().Draw(t, "read")
		got := unread(last, read)
		if read >= last {
			if got != 0 {
				t.Fatalf("unread(%d, %d) = %d, want 0", last, read, got)
			}
			return
		}
		if got != last-read || got > last {
			t.Fatalf("unread(%d, %d) = %d, want %d", last, read, got, last-read)
		}
	})
	if unread(10, 3) != 7 || unread(3, 10) != 0 || unread(0, 0) != 0 || unread(math.MaxUint64, 0) != math.MaxUint64 {
		t.Fatal("unread fixed cases")
	}
}

// syncModel computes, by brute force, the seqs a messagesync request
// returns, as documented on SyncRange.
func syncModel(start, end uint64, limit, mode int, maxSeq uint64) (seqs []uint64, more bool) {
	if limit <= 0 {
		limit = 100
	}
	if start == 0 && end == 0 {
		mode = PullDown
	}
	var all []uint64
	if mode == PullUp {
		for s := max(start, 1); s <= maxSeq; s++ {
			if end != 0 && s >= end {
				break
			}
			all = append(all, s)
		}
		if len(all) > limit {
			return all[:limit], true
		}
		return all, false
	}
	top := start
	if top == 0 {
		top = maxSeq
	}
	for s := uint64(1); s <= maxSeq; s++ {
		if s <= top && s > end {
			all = append(all, s)
		}
	}
	if len(all) > limit {
		return all[len(all)-limit:], true
	}
	return all, false
}

func TestSyncRangeMatchesModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		// Small channels and limits often, so that a range holds exactly
		// limit or limit+1 seqs.
		maxSeq := rapid.OneOf(rapid.Uint64Range(0, 12), rapid.Uint64Range(0, 200)).Draw(t, "maxSeq")
		seq := rapid.OneOf(rapid.Uint64Range(0, 210), rapid.SampledFrom([]uint64{0, 1, maxSeq, maxSeq + 1, math.MaxUint64}))
		start := seq.Draw(t, "start")
		end := seq.Draw(t, "end")
		limit := rapid.OneOf(rapid.IntRange(-2, 12), rapid.IntRange(0, 250)).Draw(t, "limit")
		mode := rapid.SampledFrom([]int{PullDown, PullUp}).Draw(t, "mode")

		want, wantMore := syncModel(start, end, limit, mode, maxSeq)
		lo, hi, more := SyncRange(start, end, limit, mode, maxSeq)
		var got []uint64
		for s := lo; s <= hi && lo <= hi; s++ {
			got = append(got, s)
			if s == math.MaxUint64 {
				break
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) || more != wantMore {
			t.Fatalf("SyncRange(start=%d, end=%d, limit=%d, mode=%d, max=%d) = [%d, %d] more=%v: %v\nwant %v more=%v",
				start, end, limit, mode, maxSeq, lo, hi, more, got, want, wantMore)
		}
	})
}

func TestSyncRangeFixedCases(t *testing.T) {
	for _, c := range []struct {
		start, end  uint64
		limit, mode int
		max         uint64
		lo, hi      uint64
		more        bool
	}{
		{0, 0, 0, PullUp, 250, 151, 250, true},  // newest default 100, whatever the mode
		{0, 0, 10, PullDown, 5, 1, 5, false},    // fewer than limit
		{1, 0, 3, PullUp, 10, 1, 3, true},       // up from 1
		{4, 7, 10, PullUp, 10, 4, 6, false},     // end exclusive
		{8, 0, 3, PullDown, 10, 6, 8, true},     // down includes start
		{8, 5, 10, PullDown, 10, 6, 8, false},   // down: end exclusive
		{11, 0, 5, PullUp, 10, 1, 0, false},     // past the end: empty
		{0, 0, 5, PullDown, 0, 1, 0, false},     // empty channel
		{20, 0, 5, PullDown, 10, 6, 10, true},   // start above max clamps
		{3, 3, 5, PullUp, 10, 1, 0, false},      // empty up range
		{0, 1, 5, PullUp, 10, 1, 0, false},      // up to end 1 exclusive: nothing
		{0, 3, 5, PullDown, 10, 6, 10, true},    // down, start 0 = newest
		{5, 5, 5, PullDown, 10, 1, 0, false},    // down, start = end: empty
		{10, 0, 10, PullDown, 10, 1, 10, false}, // exactly limit: no more
		{0, 0, 3, PullDown, 4, 2, 4, true},      // limit+1: cut
		{5, 1, 3, PullDown, 10, 3, 5, true},     // 2..5 cut to the newest 3
		{2, 6, 4, PullUp, 10, 2, 5, false},      // exactly limit up
		{2, 7, 4, PullUp, 10, 2, 5, true},       // limit+1 up
	} {
		lo, hi, more := SyncRange(c.start, c.end, c.limit, c.mode, c.max)
		if lo > hi && c.lo > c.hi {
			if more != c.more {
				t.Errorf("%+v: empty but more=%v", c, more)
			}
			continue
		}
		if lo != c.lo || hi != c.hi || more != c.more {
			t.Errorf("SyncRange(%d, %d, %d, %d, %d) = %d, %d, %v; want %d, %d, %v", c.start, c.end, c.limit, c.mode, c.max, lo, hi, more, c.lo, c.hi, c.more)
		}
	}
}
