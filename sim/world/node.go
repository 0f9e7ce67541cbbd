package world

import (
	"errors"
	"fmt"
	"time"

	"github.com/jindou-im/jindou/linearize"
	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/runtime"
	"github.com/jindou-im/jindou/sim"
)

// ErrNodeDown is the error of an API call to a node that is down.
var ErrNodeDown = errors.New("the node is down")

// Node is one node process of the world: a slot with a disk and a clock
// that outlive crashes, and the node.Node running on it while up.
type Node struct {
	w    *World
	id   runtime.NodeID
	proc *sim.Proc
	// Config is what the node's next start uses.
	Config node.Config
}

// ID is the node's id.
func (n *Node) ID() runtime.NodeID { return n.id }

// Proc is the node's simulator slot: its disk, clock and faults.
func (n *Node) Proc() *sim.Proc { return n.proc }

// Up reports whether the node is running.
func (n *Node) Up() bool { return n.proc.Up() }

// Server is the running node.Node, or nil while the node is down.
func (n *Node) Server() *node.Node {
	s, _ := n.proc.Process().(*node.Node)
	return s
}

// Start starts the node again on its disk. A failed start leaves it down;
// the error is returned and is also the run's failure.
func (n *Node) Start() error { return n.proc.Start() }

// Crash kills the node at once, keeping keepPct percent of its unsynced
// writes (0: a power loss, 100: a process crash with the OS intact).
func (n *Node) Crash(keepPct int) { n.proc.Crash(keepPct) }

// Stop stops the node gracefully.
func (n *Node) Stop() { n.proc.Stop() }

// HoldDisk holds the node's disk commits until ReleaseDisk (a stuck
// fsync); a crash or stop ends the hold and loses them. See sim.Proc.HoldDisk.
func (n *Node) HoldDisk() { n.proc.HoldDisk() }

// ReleaseDisk lets the held commits complete; it returns how many there
// were.
func (n *Node) ReleaseDisk() int { return n.proc.ReleaseDisk() }

// Submit hands req to the node's API at once (call it from a scheduled
// event or between runs); done runs on the node's API loop with the reply,
// or never if the node crashes first. It reports false, and done is not
// called, if the node is down.
func (n *Node) Submit(req node.Request, done func(reply any, err error)) bool {
	s := n.Server()
	if s == nil {
		return false
	}
	s.Submit(req, done)
	return true
}

// Call runs req on the node's API to completion, as an HTTP request would:
// submitted in an event of its own, then the world runs until the reply,
// for at most its patience. The error is the request's, ErrNodeDown, or the
// run's.
func (n *Node) Call(req node.Request) (any, error) {
	if !n.Up() {
		return nil, fmt.Errorf("node %d: %w", n.id, ErrNodeDown)
	}
	var reply any
	var err error
	done := false
	// A node that goes down (or down and up again) during the call never
	// answers it: the call fails with ErrNodeDown then, at once.
	inc := n.proc.Incarnations()
	gone := func() bool { return !n.proc.Up() || n.proc.Incarnations() != inc }
	n.w.Sim.After(0, "api", func() {
		if !n.Submit(req, func(r any, e error) { reply, err, done = r, e, true }) {
			err, done = fmt.Errorf("node %d: %w", n.id, ErrNodeDown), true
		}
	})
	if werr := n.w.Await(n.w.patience, time.Millisecond, func() bool { return done || gone() }); werr != nil {
		return nil, fmt.Errorf("%T: %w", req, werr)
	}
	if !done {
		return nil, fmt.Errorf("node %d went down during %T: %w", n.id, req, ErrNodeDown)
	}
	return reply, err
}

// MustCall is Call, failing the test on an error.
func (n *Node) MustCall(req node.Request) any {
	n.w.t.Helper()
	r, err := n.Call(req)
	if err != nil {
		n.w.t.Fatalf("%T: %v", req, err)
	}
	return r
}

// Record is Submit for a request the history checks: a node.MessageSync
// (with its more flag),
// node.MaxSeq or node.SendMessage is recorded in the world's History as
// client's operation (its call now, its reply or failure when done runs;
// a send that failed other than by a refusal or a bad field is unknown, and
// so is one still pending when the node crashes), with the channel as the
// request names it. Other requests are submitted unrecorded. done
// may be nil.
func (n *Node) Record(client string, req node.Request, done func(reply any, err error)) bool {
	if !n.Up() {
		return false
	}
	h, now := n.w.History, func() time.Duration { return n.w.Sim.Now() }
	var op linearize.OpID
	var ok func(reply any)
	switch r := req.(type) {
	case node.MessageSync:
		mode := linearize.Up
		if r.PullMode == node.PullDown {
			mode = linearize.Down
		}
		op = h.CallSync(now(), client, linearize.SyncRequest{Channel: r.Channel.String(), Start: r.Start, End: r.End, Limit: uint64(r.Limit), Mode: mode})
		ok = func(v any) {
			reply := v.(node.SyncReply)
			h.SyncOK(op, now(), HistoryMessages(reply.Messages))
			h.SyncMore(op, reply.More == 1)
		}
	case node.MaxSeq:
		op = h.CallMaxSeq(now(), client, r.Channel.String())
		ok = func(v any) { h.MaxSeqOK(op, now(), v.(uint64)) }
	case node.SendMessage:
		op = h.CallSend(now(), client, linearize.Send{Channel: r.Channel.String(), FromUID: r.FromUID, ClientMsgNo: r.ClientMsgNo, Payload: string(r.Payload)})
		ok = func(v any) { s := v.(node.SendReply); h.SendOK(op, now(), s.MessageID, s.MessageSeq) }
	}
	return n.Submit(req, func(v any, err error) {
		switch {
		case ok == nil:
		case err != nil && sendMaybeStored(req, err):
			h.Unknown(op, now())
		case err != nil:
			h.Failed(op, now(), err.Error())
		default:
			ok(v)
		}
		if done != nil {
			done(v, err)
		}
	})
}

// sendMaybeStored: an API send that failed for another reason than a
// refusal or a bad field may have been stored all the same.
func sendMaybeStored(req node.Request, err error) bool {
	if _, ok := req.(node.SendMessage); !ok {
		return false
	}
	var refused *node.Refused
	var bad *node.BadRequest
	return !errors.As(err, &refused) && !errors.As(err, &bad)
}

// AwaitReady runs until the node's readiness check passes (every slot has
// a leader and has caught up), asking every 10ms, for at most the world's
// patience.
func (n *Node) AwaitReady() error {
	deadline := n.w.Sim.Now() + n.w.patience
	for {
		r, err := n.Call(node.Ready{})
		if err != nil {
			return err
		}
		if r.(node.ReadyReply).Ready {
			return nil
		}
		if n.w.Sim.Now() >= deadline {
			return fmt.Errorf("node %d never became ready: %s", n.id, r.(node.ReadyReply).Reason)
		}
		if err := n.w.Sim.RunFor(10 * time.Millisecond); err != nil {
			return err
		}
	}
}

// ReadLog reads a channel's whole log through the node's API, a page at a
// time, as login, and hands it to then; on an error it hands over the
// error instead. Neither runs if the node crashes meanwhile. It reports
// false if the node is down.
func (n *Node) ReadLog(login string, ch node.ChannelKey, then func([]*node.Message, error)) bool {
	var all []*node.Message
	var page func() bool
	page = func() bool {
		return n.Submit(node.MessageSync{LoginUID: login, Channel: ch, PullMode: node.PullUp, Start: uint64(len(all) + 1), Limit: 1000}, func(r any, err error) {
			if err != nil {
				then(nil, err)
				return
			}
			reply := r.(node.SyncReply)
			all = append(all, reply.Messages...)
			if reply.More == 1 {
				page()
				return
			}
			then(all, nil)
		})
	}
	return page()
}

// SyncAll reads a channel's whole log as login, a page at a time, each page
// a Call.
func (n *Node) SyncAll(login string, ch node.ChannelKey) ([]*node.Message, error) {
	var all []*node.Message
	for {
		r, err := n.Call(node.MessageSync{LoginUID: login, Channel: ch, PullMode: node.PullUp, Start: uint64(len(all) + 1), Limit: 1000})
		if err != nil {
			return nil, err
		}
		page := r.(node.SyncReply)
		all = append(all, page.Messages...)
		if page.More == 0 {
			return all, nil
		}
	}
}

// HistoryMessages is msgs as the history records them.
func HistoryMessages(msgs []*node.Message) []linearize.Message {
	out := make([]linearize.Message, len(msgs))
	for i, m := range msgs {
		out[i] = linearize.Message{Seq: m.Seq, MessageID: m.MessageID, FromUID: m.FromUID, ClientMsgNo: m.ClientMsgNo, Payload: string(m.Payload)}
	}
	return out
}
