package state

import (
	"slices"

	"github.com/cockroachdb/pebble/v2"
	"github.com/jindou-im/jindou/node/proto"
)

// SubscriberPage lists up to limit of ch's subscribers that sort after
// after (all of them from after ""), in uid order, how many subscribers ch
// has in all, and whether more follow the page. A person channel's
// subscribers are its two users. It reads the store, which the member
// cache (cache.go) only mirrors.
func (m *Machine) SubscriberPage(r pebble.Reader, ch ChannelKey, after string, limit int) (uids []string, total int, more bool) {
	if ch.Type == proto.ChannelPerson {
		for _, uid := range slices.Sorted(slices.Values(ch.PersonMembers())) {
			total++
			if uid > after && len(uids) < limit {
				uids = append(uids, uid)
			} else if uid > after {
				more = true
			}
		}
		return orEmpty(uids), total, more
	}
	prefix := memberPrefix(m.slot, tblSubscriber, ch)
	Scan(r, prefix, func(k, _ []byte) {
		total++
		uid := k[len(prefix):]
		switch {
		case string(uid) <= after:
		case len(uids) < limit:
			uids = append(uids, string(uid))
		default:
			more = true
		}
	})
	return orEmpty(uids), total, more
}
