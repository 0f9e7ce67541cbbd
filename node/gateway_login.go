package node

import (
	"errors"

	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/node/state"
)

// Logins after the token check, as WuKongIM's connect handler does them:
// a banned user is refused, then the new connection displaces the older
// ones of the same uid and device flag.

// queryBan asks whether uid is banned: the ban switch of its own person
// channel (POST /channel/info {channel_id: uid, channel_type: 1, ban: 1}).
// Result: banResult.
type queryBan struct{ UID string }

// banResult is true when the user is banned.
type banResult bool

func (queryBan) isSlotQuery()   {}
func (banResult) isReadResult() {}

// userChannel is the person channel named by uid alone, whose settings
// apply to the user.
func userChannel(uid string) state.ChannelKey {
	return state.ChannelKey{Type: proto.ChannelPerson, ID: uid}
}

// checkBan asks the slot of the user's own channel whether it is banned;
// the connection waits in stateAuth for the banResult.
func (g *gateway) checkBan(c *client) {
	slotID := state.SlotOfChannel(userChannel(c.uid), g.n.cfg.Slots)
	g.askAuth(c, slotID, queryBan{UID: c.uid})
}

// askAuth asks slot q for a connection in stateAuth; the answer is a
// readDone naming the connection.
func (g *gateway) askAuth(c *client, slotID int, q slotQuery) {
	m := slotRead{Slot: slotID, Query: q, Reply: replyTo{addr: g.n.self(g.name), Conn: c.conn.ID()}}
	g.n.post(g.n.slotAddr(slotID), m)
	if g.n.clustered() {
		c.asking = &m
		g.loop.After(forwardRetry, authRetryTag{c.conn.ID()})
	}
}

// onAuthRetry sends a connection's unanswered token or ban read again.
func (g *gateway) onAuthRetry(id uint64) {
	c := g.clients[id]
	if c == nil || c.state != stateAuth || c.asking == nil {
		return
	}
	g.n.post(g.n.slotAddr(c.asking.Slot), *c.asking)
	g.loop.After(forwardRetry, authRetryTag{id})
}

func (g *gateway) onBanChecked(c *client, err error, banned bool) {
	switch {
	case err != nil:
		g.refuse(c, authErrReason(err))
	case banned:
		g.refuse(c, proto.ReasonBan)
	default:
		c.state = stateConnecting // accept moves it to ready
		g.accept(c)
		g.process(c)
	}
}

// loginKick is the kick a new login c sends to every gateway.
func loginKick(c *client, self connAddr) kickMsg {
	return kickMsg{UID: c.uid, Flag: int(c.flag), Except: self, Reason: "login in other device",
		Login: true, Device: c.device, Master: c.level == proto.DeviceMaster}
}

// What a kick does to one connection of its uid and flag.
type kickDo uint8

const (
	kickKeep       kickDo = iota
	kickClose             // closed without a word: the same device logged in again
	kickDisconnect        // DISCONNECT ConnectKick, then closed
)

// kickAction: a kick that is not a login's disconnects every connection.
// A login closes the older connections of its own (non-empty) device id,
// at any level: the device came back, the old connection is dead or
// about to be. A master login also kicks the other devices' connections
// (an empty device id is no device: it is kicked by, and kicks, every
// other connection at master level); a slave login leaves them alone.
func kickAction(m kickMsg, c *client) kickDo {
	switch {
	case !m.Login:
		return kickDisconnect
	case m.Device != "" && c.device == m.Device:
		return kickClose
	case m.Master:
		return kickDisconnect
	}
	return kickKeep
}

// authErrReason is the CONNACK reason of a token or ban check that failed
// to answer: retryable (SystemError) when the cluster could not reach the
// slot's leader, AuthFail otherwise.
func authErrReason(err error) proto.ReasonCode {
	if errors.Is(err, ErrNotLeader) || errors.Is(err, ErrOverloaded) || errors.Is(err, ErrTimeout) {
		return proto.ReasonSystemError
	}
	return proto.ReasonAuthFail
}
