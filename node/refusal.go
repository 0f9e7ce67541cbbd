package node

import (
	"slices"
	"time"

	"github.com/jindou-im/jindou/node/proto"
)

// Refusals in a cluster are confirmed before they are answered. A leader
// decides a send from its applied state and from the system uids slot 0
// announced to it; either may be stale: the leader may have been deposed
// by a partition it has not noticed, and the announcement of a new system
// uid travels on its own. A send it stores is safe (it commits through a
// quorum, or not at all), but a refusal would be answered from the stale
// view. So before a refusal is answered, the deciding loop
//
//  1. reads the system uids from slot 0's leader (a linearizable read),
//  2. confirms its own leadership with a ReadIndex round of the send's slot,
//
// and decides the send again on that state: refused then, it is answered
// so; allowed, it is proposed as any other. If leadership moved meanwhile,
// the send is routed anew. A refusal whose confirmation cannot complete (no
// quorum in reach) is not answered and the client's SEND times out with a
// retryable reason, as a send would. A cluster of one decides at once.

// refusalWait is a send waiting for its refusal's confirmation.
type refusalWait struct {
	m slotSend
	// system: the sender is a system uid by slot 0's answer; leadership:
	// the wait is for the ReadIndex round (step 2), not for slot 0.
	system, leadership bool
	at                 time.Duration
}

// queryConfirm is step 2: a read of the send's own slot that answers only
// once a ReadIndex round confirmed the leadership. Result: confirmResult.
type queryConfirm struct{}

type confirmResult struct{}

func (queryConfirm) isSlotQuery()   {}
func (confirmResult) isReadResult() {}

// confirmRefusal starts step 1 for a send about to be refused.
func (sl *slotLoop) confirmRefusal(m slotSend) {
	sl.awaitRefusal(refusalWait{m: m, at: sl.n.env.Clock().Now()}, 0, querySystemUIDs{})
}

func (sl *slotLoop) awaitRefusal(w refusalWait, slotID int, q slotQuery) {
	sl.nextReq++
	if sl.refusals == nil {
		sl.refusals = map[uint64]refusalWait{} // made on first use
	}
	sl.refusals[sl.nextReq] = w
	sl.stats.RefusalChecks++
	sl.n.post(sl.n.slotAddr(slotID), slotRead{Slot: slotID, Query: q, Reply: replyTo{addr: sl.n.self(sl.name), Req: sl.nextReq}})
}

// onRefusalRead takes the answer to a step of a refusal's confirmation; it
// reports false for an answer that is not one.
func (sl *slotLoop) onRefusalRead(d readDone) bool {
	w, ok := sl.refusals[d.Reply.Req]
	if !ok {
		return false
	}
	delete(sl.refusals, d.Reply.Req)
	if d.Err != nil {
		sl.n.answer(w.m.Reply, sendDone{Reply: w.m.Reply, Res: sendResult{Reason: proto.ReasonSystemError, Err: d.Err}})
		return true
	}
	if uids, isUIDs := d.Result.(uidsResult); isUIDs && !w.leadership {
		w.system = slices.Contains(uids, w.m.Req.Cmd.From)
	}
	s := sl.slots[w.m.Slot]
	if s == nil || !sl.isLeader(s) || !s.caughtUp {
		w.m.Req.System = w.m.Req.System || w.system
		sl.onMsg(w.m) // leadership moved: the new leader decides
		return true
	}
	if !w.leadership {
		w.leadership = true
		sl.awaitRefusal(w, w.m.Slot, queryConfirm{})
		return true
	}
	w.m.Confirmed = true
	w.m.Req.System = w.m.Req.System || w.system
	sl.send(w.m)
	return true
}

// expireRefusals drops confirmations waiting longer than their requesters
// do.
func (sl *slotLoop) expireRefusals() {
	now := sl.n.env.Clock().Now()
	//lint:maporder order-free: deleting the expired waits ends the same in any order
	for id, w := range sl.refusals {
		if now-w.at >= forwardedTimeout {
			delete(sl.refusals, id)
		}
	}
}
