package node

import (
	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/node/state"
	"github.com/jindou-im/jindou/runtime"
)

// Presence for the webhooks: who is online, without a lock shared between
// loops. Each gateway posts a presenceMsg to every slot loop when one of
// its connections comes online (CONNACK) or goes; each slot loop keeps its
// own view (counts per uid, summed over the gateways: posts from one
// gateway arrive in order, and sums commute, so the view converges). The
// view answers msg.offline (is a recipient's master device online?) and
// writes user.onlinestatus lines for the users of the slots the loop owns.
//
// In a cluster, msg.offline asks the cluster's presence (presence.go)
// instead, which holds every node's connections; the user.onlinestatus
// lines stay each node's, for its own connections.

// presenceMsg: a connection came online or went. Posted by gateways to
// every slot loop when presence is needed (WebhookConfig.presenceOn).
type presenceMsg struct {
	UID    string
	Flag   uint8
	Level  proto.DeviceLevel
	Conn   uint64
	Online bool
}

func (presenceMsg) Kind() string { return "presence" }

func (m presenceMsg) Digest() uint64 {
	d := m.Conn<<1 | uint64(b2i(m.Online))
	for i := 0; i < len(m.UID); i++ {
		d = d*1099511628211 ^ uint64(m.UID[i])
	}
	return d
}

// presence is one uid's online connections.
type presence struct {
	total, master int
	flags         map[uint8]int
}

type presenceView struct{ users map[string]*presence }

func newPresenceView() presenceView { return presenceView{users: map[string]*presence{}} }

// apply counts m in and returns the uid's connections on m's flag and in
// all after it.
func (v presenceView) apply(m presenceMsg) (device, total int) {
	p := v.users[m.UID]
	if p == nil {
		p = &presence{flags: map[uint8]int{}}
		v.users[m.UID] = p
	}
	d := 1
	if !m.Online {
		d = -1
	}
	p.total += d
	p.flags[m.Flag] += d
	if m.Level == proto.DeviceMaster {
		p.master += d
	}
	device, total = p.flags[m.Flag], p.total
	if p.flags[m.Flag] <= 0 {
		delete(p.flags, m.Flag)
	}
	if p.total <= 0 {
		delete(v.users, m.UID)
	}
	return device, total
}

// masterOnline: a master device of uid is online, on any node of the
// cluster.
func (h *hooks) masterOnline(uid string) bool {
	if h.sl.n.clustered() {
		return h.sl.presence.masterOnline(uid)
	}
	return h.presence.masterOnline(uid)
}

func (v presenceView) masterOnline(uid string) bool {
	p := v.users[uid]
	return p != nil && p.master > 0
}

// broadcastPresence is the gateway's hook: c came online or goes. It
// feeds the cluster's presence, and the slot loops' view of who is online
// on a node alone (the offline recipients' count, stats_delivery.go) or
// when the webhooks need one.
func (g *gateway) broadcastPresence(c *client, online bool) {
	g.announcePresence(c, online)
	if g.n.clustered() && !g.n.cfg.Webhook.presenceOn() {
		return
	}
	g.n.broadcastSlotLoops(presenceMsg{UID: c.uid, Flag: uint8(c.flag), Level: c.level, Conn: c.conn.ID(), Online: online})
}

// onPresence updates the loop's view and, for a user of a slot it owns,
// queues the user.onlinestatus line.
func (h *hooks) onPresence(m presenceMsg) {
	device, total := h.presence.apply(m)
	if !h.cfg.On(EventOnlineStatus) {
		return
	}
	if _, mine := h.sl.slots[state.SlotOfUser(m.UID, h.sl.n.cfg.Slots)]; !mine {
		return
	}
	if len(h.status.lines) >= maxStatusLines {
		h.stats.StatusDropped++
		if !h.status.warned {
			h.status.warned = true
			h.sl.n.env.Log().Warn("webhook: user.onlinestatus lines dropped while the receiver fails", "loop", h.sl.name, "kept", maxStatusLines)
		}
		return
	}
	h.status.lines = append(h.status.lines, statusLine(m.UID, m.Flag, m.Online, m.Conn, device, total))
}

// statusQueue holds the user.onlinestatus lines not yet acknowledged, in
// order; the first inFlight of them are being POSTed.
type statusQueue struct {
	lines      []string
	inFlight   int
	failures   int
	retryArmed bool
	warned     bool
}

func (q *statusQueue) tick(h *hooks) {
	if q.retryArmed {
		return
	}
	q.send(h)
}

func (q *statusQueue) send(h *hooks) {
	if q.inFlight > 0 || len(q.lines) == 0 {
		return
	}
	q.inFlight = min(len(q.lines), maxStatusLinesPerPost)
	h.stats.Posts++
	h.call(EventOnlineStatus, mustJSON(q.lines[:q.inFlight]), hookDone{Status: true})
}

func (q *statusQueue) onDone(h *hooks, e runtime.OutboundDone) {
	n := q.inFlight
	q.inFlight = 0
	if e.Err != nil || e.Status != 200 {
		q.failures++
		h.stats.Failures++
		q.retryArmed = true
		h.sl.loop.After(h.backoff(q.failures), hookTimer{What: statusRetry})
		return
	}
	q.failures = 0
	q.warned = false
	h.stats.StatusSent += int64(n)
	q.lines = q.lines[n:]
	if len(q.lines) == 0 {
		q.lines = nil // let the backing array go after a long outage
	}
}
