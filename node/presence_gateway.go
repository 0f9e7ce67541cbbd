package node

import (
	"slices"
	"strconv"
	"strings"

	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/runtime"
)

// The gateway's half of cluster presence (presence.go): it announces its
// uids' changes, beats, and answers asks for its whole presence. A cluster
// of one has no presence traffic: its slot loops deliver to every gateway
// of the node.

// gatewayPresence is a gateway's presence numbering.
type gatewayPresence struct {
	index int    // the loop's index among the gateways
	seq   uint64 // the last update's number
}

// presenceBeatTag is a gateway's beat timer.
type presenceBeatTag struct{}

// startPresence arms the beat of a gateway. It beats only while the node
// has other members, but always runs: a cluster of one may grow (a node
// joins), and the newcomer learns this node's presence from the beat.
func (g *gateway) startPresence(index int) {
	g.presence.index = index
	g.loop.After(presenceBeatInterval, presenceBeatTag{})
}

func (g *gateway) presenceSrc() presenceSource {
	return presenceSource{Node: g.n.env.Node(), Gateway: g.presence.index, Inc: g.n.inc}
}

// onPresenceBeat repeats the latest update number to every slot loop.
func (g *gateway) onPresenceBeat() {
	if g.n.clustered() {
		g.toSlotLoops(presenceUpdate{Src: g.presenceSrc(), Seq: g.presence.seq})
	}
	g.loop.After(presenceBeatInterval, presenceBeatTag{})
}

// announcePresence tells every slot loop of the cluster of a change of
// c.uid's presence on this gateway, if c's coming (online) or going
// changes it. g.online holds c at both calls.
func (g *gateway) announcePresence(c *client, online bool) {
	if !g.n.clustered() {
		return
	}
	with, without := g.presenceOf(c.uid, nil), g.presenceOf(c.uid, c)
	before, after := without, with
	if !online {
		before, after = with, without
	}
	if before == after {
		return
	}
	g.presence.seq++
	g.toSlotLoops(presenceUpdate{Src: g.presenceSrc(), Seq: g.presence.seq, Changes: []presenceChange{{UID: c.uid, State: after}}})
}

// presenceOf is uid's presence on this gateway, leaving out except.
func (g *gateway) presenceOf(uid string, except *client) presenceState {
	st := presenceOff
	for _, o := range g.online[uid] {
		switch {
		case o == except:
		case o.level == proto.DeviceMaster:
			return presenceMaster
		default:
			st = presenceOn
		}
	}
	return st
}

// toSlotLoops posts m to every slot loop of the cluster.
func (g *gateway) toSlotLoops(m runtime.Msg) {
	g.n.broadcastSlotLoops(m)
	for _, p := range g.n.others() {
		for i := range g.n.cfg.SlotLoops {
			g.n.post(addr{Node: p, Loop: slotLoopName(i)}, m)
		}
	}
}

// onPresenceAsk answers a slot loop's ask with the gateway's whole
// presence, in parts. An ask naming no slot loop of the cluster is
// dropped.
func (g *gateway) onPresenceAsk(m presenceAsk) {
	if !g.n.isMember(m.Reply.Node) || !g.isSlotLoopName(m.Reply.Loop) {
		g.stats.PeerDropped++
		return
	}
	uids := sortedKeys(g.online)
	parts := max(1, (len(uids)+presenceChunk-1)/presenceChunk)
	for part := range parts {
		chunk := uids[min(part*presenceChunk, len(uids)):min((part+1)*presenceChunk, len(uids))]
		holds := make([]presenceChange, 0, len(chunk))
		for _, uid := range chunk {
			holds = append(holds, presenceChange{UID: uid, State: g.presenceOf(uid, nil)})
		}
		holds = slices.DeleteFunc(holds, func(h presenceChange) bool { return h.State == presenceOff })
		g.n.post(m.Reply, presenceFull{Src: g.presenceSrc(), Seq: g.presence.seq, Part: part, Parts: parts, Holds: holds})
	}
}

// isSlotLoopName: name is the name of one of the cluster's slot loops.
func (g *gateway) isSlotLoopName(name string) bool {
	rest, ok := strings.CutPrefix(name, "slots-")
	if !ok {
		return false
	}
	i, err := strconv.Atoi(rest)
	return err == nil && i >= 0 && i < g.n.cfg.SlotLoops && slotLoopName(i) == name
}
