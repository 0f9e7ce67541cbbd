package linearize

import "fmt"

// describe renders operation id for reports: what it asked, when, and
// what it got.
func (h *history) describe(id OpID) string {
	o := &h.ops[id]
	head := fmt.Sprintf("op %d (%v by client %s, [%s, %s]", id, o.kind, o.client, fmtTime(o.call), fmtTime(o.ret))
	var req string
	switch o.kind {
	case opSend:
		req = fmt.Sprintf("from %s client_msg_no %q", o.send.FromUID, o.send.ClientMsgNo)
	case opSync:
		req = describeRequest(o.req)
	case opMaxSeq:
		req = "channel " + o.channel
	}
	var res string
	switch o.outcome {
	case OK:
		switch o.kind {
		case opSend:
			res = fmt.Sprintf("ok seq %d id %d", o.msg.Seq, o.msg.MessageID)
		case opSync:
			res = describeSeqs(sortedBySeq(o.msgs))
		case opMaxSeq:
			res = fmt.Sprint(o.tail)
		}
	case Failed:
		res = "failed: " + o.reason
	case Unknown:
		res = "unknown"
		if m, ok := h.stored[id]; ok {
			res = fmt.Sprintf("unknown, stored at seq %d id %d", m.Seq, m.MessageID)
		}
	default:
		res = o.outcome.String()
	}
	return fmt.Sprintf("%s: %s → %s)", head, req, res)
}

// opRef names an operation of a history; its String is the operation's
// description, rendered only when asked for (porcupine's visualization
// renders metadata with %v).
type opRef struct {
	h  *history
	id OpID
}

func (r opRef) String() string { return r.h.describe(r.id) }
