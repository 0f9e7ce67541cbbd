package node

import (
	"errors"
	"fmt"

	"github.com/jindou-im/jindou/node/proto"
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

// Submit runs req on the node; done runs on the node's API loop.
func (n *Node) Submit(req Request, done func(reply any, err error)) {
	n.api.loop.Post(apiCall{req: req, done: done})
}

// apiLoop coordinates API requests: it fans out to slot and gateway loops
// and gathers their answers.
type apiLoop struct {
	n    *Node
	loop runtime.Loop
}

type apiCall struct {
	req  Request
	done func(any, error)
}

// apiStep continues a request on the API loop.
type apiStep struct{ fn func() }

func (apiCall) Kind() string { return "api-call" }
func (apiStep) Kind() string { return "api-step" }

func (a *apiLoop) Handle(ev runtime.Event) {
	p, ok := ev.(runtime.Posted)
	if !ok {
		return
	}
	switch m := p.Msg.(type) {
	case apiCall:
		if err := m.req.run(a, m.done); err != nil {
			m.done(nil, err)
		}
	case apiStep:
		m.fn()
	}
}

// back returns a function that runs fn back on the API loop.
func (a *apiLoop) back(fn func()) { a.loop.Post(apiStep{fn: fn}) }

// propose proposes cmd to slot and calls then on the API loop.
func (a *apiLoop) propose(slotID int, cmd *command, then func(applyResult, error)) {
	a.n.slotLoopOf(slotID).loop.Post(slotPropose{slot: slotID, cmd: cmd, done: func(r applyResult, err error) {
		a.back(func() { then(r, err) })
	}})
}

// proposeReply proposes cmd to slot and answers done with no reply, or the
// error.
func (a *apiLoop) proposeReply(slotID int, cmd *command, done func(any, error)) {
	a.propose(slotID, cmd, func(_ applyResult, err error) { done(nil, err) })
}

// query runs fn on the slot loop owning slotID and hands its result to then
// on the API loop.
func query[T any](a *apiLoop, slotID int, fn func(r pebbleReader, sl *slotLoop) T, then func(T)) {
	a.n.slotLoopOf(slotID).loop.Post(slotQuery{slot: slotID, fn: func(r pebbleReader, sl *slotLoop) {
		v := fn(r, sl)
		a.back(func() { then(v) })
	}})
}

// gatherSlotLoops runs fn on every slot loop — once all its slots have
// caught up if wait is set, at once otherwise — and hands the results, in
// slot loop order, to then.
func gatherSlotLoops[T any](a *apiLoop, wait bool, fn func(sl *slotLoop) T, then func([]T)) {
	out := make([]T, len(a.n.slotLoops))
	left := len(out)
	for i, sl := range a.n.slotLoops {
		run := func(sl *slotLoop) {
			v := fn(sl)
			a.back(func() {
				out[i] = v
				if left--; left == 0 {
					then(out)
				}
			})
		}
		if wait {
			sl.loop.Post(slotQuery{slot: -1, fn: func(_ pebbleReader, sl *slotLoop) { run(sl) }})
		} else {
			sl.loop.Post(slotQueryNow{fn: run})
		}
	}
}

// gatherGateways runs fn on every gateway loop; see gatherSlotLoops.
func gatherGateways[T any](a *apiLoop, fn func(g *gateway) T, then func([]T)) {
	out := make([]T, len(a.n.gateways))
	left := len(out)
	for i, g := range a.n.gateways {
		g.loop.Post(gatewayQuery{fn: func(g *gateway) {
			v := fn(g)
			a.back(func() {
				out[i] = v
				if left--; left == 0 {
					then(out)
				}
			})
		}})
	}
}

func (a *apiLoop) wallMs() int64 { return a.n.env.Clock().Wall().UnixMilli() }

// Validation helpers.

func checkUID(field, uid string) error {
	if err := ValidUID(uid); err != nil {
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
	if !supportedChannelType(ch.Type) {
		return &BadRequest{Field: "channel_type", Msg: fmt.Sprintf("unsupported channel type %d (1 person, 2 group)", ch.Type)}
	}
	if err := validChannelID(ch.ID); err != nil {
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
	if _, _, ok := PersonUIDs(ch.ID); ok {
		return ch, nil
	}
	if err := checkUID("login_uid", uid); err != nil {
		return ChannelKey{}, err
	}
	return ChannelKey{Type: proto.ChannelPerson, ID: PersonChannelID(uid, ch.ID)}, nil
}

var errNoSubscribersForPerson = &BadRequest{Field: "subscribers", Msg: "a person channel has no subscribers"}

// ErrUnknownList is a list name other than blacklist or whitelist.
var ErrUnknownList = errors.New("list must be blacklist or whitelist")
