package node

import (
	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/node/state"
)

// ConnClose closes one connection of a user, by the id /connz shows: with
// Kick, after a DISCONNECT (ConnectKick, "server kick"), as POST
// /conn/kick; without, silently, as POST /conn/remove. A connection that
// is gone (or not the user's) is no error, as in WuKongIM. Reply: nil.
type ConnClose struct {
	UID    string
	ConnID uint64
	Kick   bool
}

func (r ConnClose) run(a *apiLoop, done func(any, error)) error {
	if r.ConnID == 0 {
		return &BadRequest{Field: "conn_id", Msg: "required (the id /connz shows)"}
	}
	a.n.broadcastGateways(connCloseMsg(r))
	done(nil, nil)
	return nil
}

// connCloseMsg asks every gateway to close a connection (ConnClose).
type connCloseMsg struct {
	UID    string
	ConnID uint64
	Kick   bool
}

func (g *gateway) onConnClose(m connCloseMsg) {
	c := g.clients[m.ConnID]
	if c == nil || c.state != stateReady || (m.UID != "" && c.uid != m.UID) {
		return
	}
	g.stats.Kicks++
	if m.Kick {
		g.write(c, &proto.Disconnect{ReasonCode: proto.ReasonConnectKick, Reason: "server kick"})
	}
	g.close(c)
}

func (connCloseMsg) Kind() string { return "conn-close" }

// SubscribersRemoveAll removes every subscriber of a group channel (POST
// /channel/subscriber_remove_all); a channel never created stays so.
// Reply: nil.
type SubscribersRemoveAll struct{ Channel ChannelKey }

func (r SubscribersRemoveAll) run(a *apiLoop, done func(any, error)) error {
	if err := checkChannel(r.Channel); err != nil {
		return err
	}
	if r.Channel.Type == proto.ChannelPerson {
		return errNoSubscribersForPerson
	}
	cmd := &state.Command{Op: state.OpSubRemoveAll, Ch: r.Channel}
	a.proposeReply(state.SlotOfChannel(r.Channel, a.n.cfg.Slots), cmd, done)
	return nil
}
