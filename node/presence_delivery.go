package node

import (
	"slices"

	"github.com/jindou-im/jindou/node/state"
	"github.com/jindou-im/jindou/runtime"
)

// Delivery in a cluster: the slot leader that applied a message looks its
// recipients up in its loop's presence table (presence.go) and sends one
// deliverMsg per other node that holds any of them, naming only that
// node's recipients; the node's first gateway loop passes it on to the
// node's gateways, which push to their own connections. The leader's own
// node gets the message through local posts to every gateway, as in a
// cluster of one. So a message costs at most one peer message per node
// with online recipients, however many recipients that node holds.

// deliver pushes a new message to its online recipients in the cluster.
func (sl *slotLoop) deliver(msg *state.Message, recipients []string, except connAddr) {
	if msg.Seq != 0 {
		sl.countOffline(recipients) // stats_delivery.go
	}
	if len(recipients) == 0 {
		return
	}
	n := sl.n
	n.broadcastGateways(deliverMsg{Msg: msg, Recipients: recipients, Except: except})
	others := n.others()
	if len(others) == 0 {
		return
	}
	var byNode [][]string
	if !sl.presence.full() {
		byNode = sl.presence.recipientsOn(others, recipients)
	}
	for i, p := range others {
		to := recipients // a full table: every member, as if there were none
		if byNode != nil {
			to = byNode[i]
		}
		if len(to) == 0 {
			sl.presence.stats.Skipped++
			continue
		}
		sl.presence.stats.Sent++
		n.post(addr{Node: p, Loop: gatewayName(0)}, deliverMsg{Msg: msg, Recipients: to, Except: except})
	}
}

// recipientsOn splits recipients by the nodes of nodes (sorted) that hold
// them, in recipient order: the i-th list is nodes[i]'s.
func (t *presenceTable) recipientsOn(nodes []runtime.NodeID, recipients []string) [][]string {
	out := make([][]string, len(nodes))
	for _, uid := range recipients {
		last := -1
		for _, h := range t.users[uid] {
			i, found := slices.BinarySearch(nodes, h.node)
			if !found || i == last {
				continue // this node, or a second gateway of the same node
			}
			last = i
			out[i] = append(out[i], uid)
		}
	}
	return out
}
