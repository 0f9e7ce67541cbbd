package node

import (
	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/node/state"
)

// TmpSubscriberSet replaces the subscribers of temporary channel
// ChannelID (type 8), creating it (POST /tmpchannel/subscriber_set).
// WuKongIM keeps them in a per-node cache; Jindou stores them like any
// channel's (state/channel_types.go). Reply: nil.
type TmpSubscriberSet struct {
	ChannelID string
	UIDs      []string
}

func (r TmpSubscriberSet) run(a *apiLoop, done func(any, error)) error {
	ch := ChannelKey{Type: proto.ChannelTemp, ID: r.ChannelID}
	if err := checkChannel(ch); err != nil {
		return err
	}
	if len(r.UIDs) == 0 {
		return &BadRequest{Field: "uids", Msg: "required"}
	}
	if err := checkUIDs("uids", r.UIDs); err != nil {
		return err
	}
	cmd := &state.Command{Op: state.OpSubAdd, Ch: ch, Reset: true, UIDs: r.UIDs}
	a.proposeReply(state.SlotOfChannel(ch, a.n.cfg.Slots), cmd, done)
	return nil
}
