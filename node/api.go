package node

import (
	"errors"
	"fmt"

	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/node/state"
	"github.com/jindou-im/jindou/runtime"
)

// The command interface: every route of the HTTP API is a Request whose
// reply type is documented on it. Submit hands a request to the node's API
// loop, which talks to the loops that own the data and calls done, on the
// API loop, with the reply or an error. Nothing is shared: requests travel
// as messages and so do their answers.

// Request is a command of the HTTP API. run checks the request and sets it
// going; an error it returns (a bad field) is the answer, and done is not
// called. Otherwise done is called once, later, on the API loop.
type Request interface {
	run(a *apiLoop, done func(reply any, err error)) error
}

// BadRequest is a request's invalid field; the HTTP layer answers 400.
type BadRequest struct {
	Field, Msg string
}

func (e *BadRequest) Error() string { return e.Field + ": " + e.Msg }

// Refused is a send the server refused, with the protocol's reason.
type Refused struct{ Reason proto.ReasonCode }

func (e *Refused) Error() string { return fmt.Sprintf("send refused: reason %d", e.Reason) }

// ErrTimeout: the loops an API request asked did not answer within
// Config.RequestTimeout.
var ErrTimeout = errors.New("node: request timed out")

// Submit runs req on the node; done runs on the node's API loop.
func (n *Node) Submit(req Request, done func(reply any, err error)) {
	n.api.loop.Post(apiCall{req: req, done: done})
}

// apiLoop coordinates API requests: it sends requests to the slot and
// gateway loops that own the data and keeps, for each, the continuation
// that the answer resumes, keyed by request id, with a deadline.
type apiLoop struct {
	n    *Node
	loop runtime.Loop
	// nextReq numbers requests; waiting holds their continuations.
	nextReq uint64
	waiting map[uint64]*apiWait
	// timers are continuations waiting for an apiTimer (handoff.go).
	timers map[uint64]func()
	// syncMarks: users' last /message/sync, for their syncack
	// (requests_sync.go).
	syncMarks *syncMarks
}

// apiWait is a continuation waiting for the answer to one request.
type apiWait struct {
	then  func(answer runtime.Msg, err error)
	timer runtime.Timer
	// again posts the request once more (a request safe to repeat, in a
	// cluster), every forwardRetry on retry until answered.
	again func()
	retry runtime.Timer
	// retried: again ran; a send's answer other than success is then
	// final only if the log decided it (see inflightSend).
	retried bool
}

func (a *apiLoop) Handle(ev runtime.Event) {
	switch e := ev.(type) {
	case runtime.TimerFired:
		switch t := e.Tag.(type) {
		case requestTimeout:
			a.resume(t.req, nil, ErrTimeout)
		case requestRetry:
			if w := a.waiting[t.req]; w != nil {
				w.again()
				w.retried = true
				w.retry = a.loop.After(forwardRetry, t)
			}
		case apiTimer:
			a.onTimer(t)
		}
	case runtime.Posted:
		a.onMsg(e.Msg)
	case runtime.PeerMsg:
		// Answers from other nodes; anything else from a peer is dropped.
		if m, err := decodePeer(e.Data); err == nil {
			if ans, ok := m.(answer); ok && a.n.ownAnswer(ans) {
				a.resume(ans.to().Req, ans, nil)
			}
		}
	}
}

func (a *apiLoop) onMsg(m runtime.Msg) {
	switch m := m.(type) {
	case apiCall:
		if err := m.req.run(a, m.done); err != nil {
			m.done(nil, err)
		}
	case answer:
		a.resume(m.to().Req, m, nil)
	default:
		panic(fmt.Sprintf("node: api loop got %T", m))
	}
}

// await keeps then until the answer to a new request arrives, or until
// RequestTimeout (then with ErrTimeout), and returns the request's reply
// address.
func (a *apiLoop) await(then func(answer runtime.Msg, err error)) replyTo {
	a.nextReq++
	id := a.nextReq
	a.waiting[id] = &apiWait{then: then, timer: a.loop.After(a.n.cfg.RequestTimeout, requestTimeout{id})}
	return replyTo{addr: a.n.self(apiLoopName), Req: id}
}

// resume runs the continuation of request id, once: a late answer after a
// timeout finds none.
func (a *apiLoop) resume(id uint64, answer runtime.Msg, err error) {
	w := a.waiting[id]
	if w == nil {
		return
	}
	if d, isSend := answer.(sendDone); isSend && w.retried && d.Res.Reason != proto.ReasonSuccess && !d.Res.Recorded {
		return // not final: another attempt may be stored (state/refuse.go)
	}
	delete(a.waiting, id)
	w.timer.Stop()
	if w.retry != nil {
		w.retry.Stop()
	}
	w.then(answer, err)
}

// propose proposes cmd to slot and calls then once it is applied.
func (a *apiLoop) propose(slotID int, cmd *state.Command, then func(error)) {
	reply := a.await(func(m runtime.Msg, err error) {
		if err == nil {
			err = m.(proposeDone).Err
		}
		then(err)
	})
	a.n.post(a.n.slotAddr(slotID), slotPropose{Slot: slotID, Cmd: cmd, Reply: reply})
}

// postRepeatable posts a request that is safe to repeat, and in a
// cluster posts again every forwardRetry until it is answered (a request
// passed on to a crashed or cut-off leader is lost); again is what is
// posted then (a send marked as repeated, or the request itself).
func (a *apiLoop) postRepeatable(reply replyTo, to addr, m, again runtime.Msg) {
	a.n.post(to, m)
	if !a.n.clustered() {
		return
	}
	w := a.waiting[reply.Req]
	w.again = func() { a.n.post(to, again) }
	w.retry = a.loop.After(forwardRetry, requestRetry{reply.Req})
}

// proposeReply proposes cmd to slot and answers done with no reply, or the
// error.
func (a *apiLoop) proposeReply(slotID int, cmd *state.Command, done func(any, error)) {
	a.propose(slotID, cmd, func(err error) { done(nil, err) })
}

// send sends a message to its channel's slot and calls then with the
// outcome.
func (a *apiLoop) send(req sendRequest, then func(sendResult)) {
	reply := a.await(func(m runtime.Msg, err error) {
		if err != nil {
			then(sendResult{Reason: proto.ReasonSystemError, Err: err})
			return
		}
		then(m.(sendDone).Res)
	})
	slotID := state.SlotOfChannel(req.Ch, a.n.cfg.Slots)
	m := slotSend{Slot: slotID, Req: req, Reply: reply}
	if req.Cmd.ClientMsgNo == "" || req.Cmd.Header.NoPersist {
		a.n.post(a.n.slotAddr(slotID), m) // not deduplicated: never repeated
		return
	}
	again := m
	again.Retry = true
	a.postRepeatable(reply, a.n.slotAddr(slotID), m, again)
}

// read reads one slot once it has caught up.
func (a *apiLoop) read(slotID int, q slotQuery, then func(readResult, error)) {
	reply := a.await(readThen(then))
	m := slotRead{Slot: slotID, Query: q, Reply: reply}
	a.postRepeatable(reply, a.n.slotAddr(slotID), m, m)
}

// gatherSlotLoops reads every slot loop — once all its slots have caught
// up, or at once if now is set — and hands the results, in loop order, to
// then.
func (a *apiLoop) gatherSlotLoops(q slotQuery, now bool, then func([]readResult, error)) {
	a.gather(len(a.n.slotLoops), func(i int, reply replyTo) {
		a.n.post(a.n.self(slotLoopName(i)), slotRead{Slot: allSlots, Query: q, Now: now, Reply: reply})
	}, then)
}

// gatherSlots reads every slot, each at its leader, and hands the results,
// in slot order, to then.
func (a *apiLoop) gatherSlots(q slotQuery, then func([]readResult, error)) {
	a.gather(a.n.cfg.Slots, func(id int, reply replyTo) {
		m := slotRead{Slot: id, Query: q, Reply: reply}
		a.postRepeatable(reply, a.n.slotAddr(id), m, m)
	}, then)
}

// gatherClusterGateways reads every gateway loop of every member.
func (a *apiLoop) gatherClusterGateways(q gatewayQuery, then func([]readResult, error)) {
	loops := a.n.cfg.GatewayLoops
	peers := a.n.currentView().peers
	a.gather(len(peers)*loops, func(i int, reply replyTo) {
		a.n.post(addr{Node: peers[i/loops], Loop: gatewayName(i % loops)}, gatewayRead{Query: q, Reply: reply})
	}, then)
}

// gatherGateways reads every gateway loop of this node; see
// gatherSlotLoops.
func (a *apiLoop) gatherGateways(q gatewayQuery, then func([]readResult, error)) {
	a.gather(len(a.n.gateways), func(i int, reply replyTo) {
		a.n.post(a.n.self(gatewayName(i)), gatewayRead{Query: q, Reply: reply})
	}, then)
}

// gather asks k loops (ask posts the i-th request) and calls then with
// their results in order once all have answered, or with the first error.
func (a *apiLoop) gather(k int, ask func(i int, reply replyTo), then func([]readResult, error)) {
	out := make([]readResult, k)
	left, failed := k, false
	for i := range k {
		ask(i, a.await(readThen(func(r readResult, err error) {
			if failed {
				return
			}
			if err != nil {
				failed = true
				then(nil, err)
				return
			}
			out[i] = r
			if left--; left == 0 {
				then(out, nil)
			}
		})))
	}
}

// readThen adapts a read's continuation to the answer it waits for.
func readThen(then func(readResult, error)) func(runtime.Msg, error) {
	return func(m runtime.Msg, err error) {
		if err != nil {
			then(nil, err)
			return
		}
		d := m.(readDone)
		then(d.Result, d.Err)
	}
}

func (a *apiLoop) wallMs() int64 { return a.n.env.Clock().Wall().UnixMilli() }

// Validation helpers.

func checkUID(field, uid string) error {
	if err := state.ValidUID(uid); err != nil {
		return &BadRequest{Field: field, Msg: err.Error()}
	}
	return nil
}

func checkUIDs(field string, uids []string) error {
	for _, u := range uids {
		if err := checkUID(field, u); err != nil {
			return err
		}
	}
	return nil
}

// checkChannel validates a channel named directly (not through a peer).
func checkChannel(ch ChannelKey) error {
	if !state.SupportedChannelType(ch.Type) {
		return &BadRequest{Field: "channel_type", Msg: fmt.Sprintf("unsupported channel type %d (%s)", ch.Type, state.SupportedTypesText)}
	}
	if err := state.ValidChannelID(ch.ID); err != nil {
		return &BadRequest{Field: "channel_id", Msg: err.Error()}
	}
	return nil
}

// viewChannel resolves a channel as seen by uid: a person channel is
// named by the peer's uid (or already by its two-uid id).
func viewChannel(uid string, ch ChannelKey) (ChannelKey, error) {
	if err := checkChannel(ch); err != nil {
		return ChannelKey{}, err
	}
	if ch.Type != proto.ChannelPerson {
		return ch, nil
	}
	if _, _, ok := state.PersonUIDs(ch.ID); ok {
		return ch, nil
	}
	if err := checkUID("login_uid", uid); err != nil {
		return ChannelKey{}, err
	}
	return ChannelKey{Type: proto.ChannelPerson, ID: state.PersonChannelID(uid, ch.ID)}, nil
}

var errNoSubscribersForPerson = &BadRequest{Field: "subscribers", Msg: "a person channel has no subscribers"}

// ErrUnknownList is a list name other than blacklist or whitelist.
var ErrUnknownList = errors.New("list must be blacklist or whitelist")
