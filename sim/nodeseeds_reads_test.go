package sim_test

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jindou-im/jindou/chaos"
	"github.com/jindou-im/jindou/linearize"
	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/runtime"
)

// What a node seed does over the API besides the users' traffic: history
// and max-seq reads (cut by their limits, both ways, at the log's edges),
// conversation reads and clear-unreads, API sends (with colliding
// client_msg_nos, retried, and without client_msg_no in the quiet phase),
// a dedupe-window probe, and the node's counters for coverage.

// startReader issues history syncs and max-seq reads over the API at random
// times, each recorded in the history.
func (sw *seedWorld) startReader() {
	r := rand.New(sw.Sim.Rand("reader"))
	edges := rand.New(sw.Sim.Rand("reader-edges"))
	var next func()
	next = func() {
		if !sw.quiet {
			sw.Sim.After(time.Duration(20+r.IntN(300))*time.Millisecond, "read", next)
		}
		n := sw.api()
		if n == nil {
			return
		}
		ch := sw.channels[r.IntN(len(sw.channels))]
		sw.reads++
		client := fmt.Sprintf("reader/%d", sw.reads)
		if r.IntN(3) == 0 {
			n.Record(client, node.MaxSeq{Channel: ch}, nil)
			return
		}
		req := node.MessageSync{LoginUID: sw.members[ch][0], Channel: ch, PullMode: r.IntN(2), Limit: 1 + r.IntN(30)}
		if r.IntN(4) != 0 {
			req.Start = uint64(r.IntN(120))
		}
		if r.IntN(3) == 0 {
			req.End = req.Start + uint64(r.IntN(40))
			if req.PullMode == node.PullDown {
				req.End = uint64(r.IntN(int(req.Start) + 1))
			}
		}
		if edges.IntN(3) == 0 {
			// At the edges of the log: its first seq, its tail, one past.
			tail := sw.tailSeen[ch]
			req.Limit = 1 + edges.IntN(4)
			req.Start = []uint64{1, tail, tail + 1, max(tail, 1) - 1}[edges.IntN(4)]
			req.End = []uint64{0, tail, tail + 1, 1}[edges.IntN(4)]
			if req.PullMode == node.PullDown && req.End >= req.Start {
				req.End = 0
			}
		}
		n.Record(client, req, func(v any, err error) {
			if err == nil && v.(node.SyncReply).More == 1 {
				sw.res.coverage.Add(chaos.CutPages, 1)
			}
		})
	}
	sw.Sim.After(100*time.Millisecond, "read", next)
}

// startConversationReader reads users' conversation lists, and clears
// their unread counts, at random times.
func (sw *seedWorld) startConversationReader() {
	r := rand.New(sw.Sim.Rand("conversations"))
	var next func()
	next = func() {
		if !sw.quiet {
			sw.Sim.After(time.Duration(50+r.IntN(500))*time.Millisecond, "conversations", next)
		}
		u := sw.users[r.IntN(len(sw.users))]
		if r.IntN(4) == 0 && len(u.targets) > 0 {
			ch := u.targets[r.IntN(len(u.targets))].key
			call := sw.Now()
			n := sw.api()
			if n == nil {
				return
			}
			n.Submit(node.ConversationUpdate{UID: u.uid, Channel: ch, Op: "clear"}, func(_ any, err error) {
				if err == nil {
					sw.History.UnreadCleared(call, sw.Now(), u.uid, ch.String())
				}
			})
			return
		}
		sw.readConversations(u.uid)
	}
	sw.Sim.After(200*time.Millisecond, "conversations", next)
}

// readConversations reads uid's conversation list into the history.
func (sw *seedWorld) readConversations(uid string) {
	call := sw.Now()
	n := sw.api()
	if n == nil {
		return
	}
	n.Submit(node.ConversationSync{UID: uid, MsgCount: 1}, func(v any, err error) {
		if transient(err) {
			return // no leader within reach: nothing read
		}
		if err != nil {
			sw.fail("conversations of %s: %v", uid, err)
			return
		}
		var views []linearize.ConvView
		for _, c := range v.([]node.Conversation) {
			views = append(views, linearize.ConvView{Channel: c.Channel.String(), LastMsgSeq: c.LastMsgSeq, Unread: c.Unread, ReadToSeq: c.ReadToMsgSeq})
		}
		sw.History.Conversations(call, sw.Now(), uid, views)
		sw.res.coverage.Add(chaos.ConvReads, 1)
	})
}

// apiSend is one send over the API, retried with its client_msg_no until
// answered.
type apiSend struct {
	n        int
	req      node.SendMessage
	attempts int
	done     bool
	// on is the node of the attempt in flight (0: none).
	on runtime.NodeID
}

// startAPISender sends over the API as members of the groups, with
// client_msg_nos that collide across users and channels.
func (sw *seedWorld) startAPISender() {
	r := rand.New(sw.Sim.Rand("api"))
	var next func()
	next = func() {
		if sw.quiet {
			return
		}
		sw.Sim.After(time.Duration(100+r.IntN(700))*time.Millisecond, "api-send", next)
		ch := sw.channels[r.IntN(sw.res.groups)] // the plain groups come first
		from := sw.members[ch][r.IntN(len(sw.members[ch]))]
		s := &apiSend{req: node.SendMessage{FromUID: from, Channel: ch, ClientMsgNo: fmt.Sprintf("x-%d", r.IntN(8)),
			Payload: []byte("api")}}
		sw.addAPISend(s)
	}
	sw.Sim.After(300*time.Millisecond, "api-send", next)
}

func (sw *seedWorld) apiAttempt(s *apiSend) {
	n := sw.api()
	if n == nil {
		return // asked again after a restart
	}
	s.attempts++
	s.on = n.ID()
	n.Record(fmt.Sprintf("api/%d/%d", s.n, s.attempts), s.req, func(_ any, err error) {
		s.on = 0
		if transient(err) {
			// Unknown (the history says so): asked again with the same
			// client_msg_no.
			sw.Sim.After(retryDelay, "api-retry", func() {
				if !s.done && s.on == 0 {
					sw.apiAttempt(s)
				}
			})
			return
		}
		if err != nil {
			sw.fail("API send %s as %s to %s: %v", s.req.ClientMsgNo, s.req.FromUID, s.req.Channel, err)
		}
		s.done = true
		if s.req.ClientMsgNo == "" {
			sw.res.coverage.Add(chaos.APISends, 1)
		}
	})
}

// apiRetry resends the API sends whose answer a crash lost.
func (sw *seedWorld) apiRetry() {
	for _, s := range sw.apiSends {
		if !s.done && s.on == 0 {
			sw.apiAttempt(s)
		}
	}
}

// apiLost: node id crashed with the API sends in flight there.
func (sw *seedWorld) apiLost(id runtime.NodeID) {
	for _, s := range sw.apiSends {
		if s.on == id {
			s.on = 0
		}
	}
}

// apiQuietSends sends one message without client_msg_no to each plain
// group over the API, once no fault is left (an unknown outcome of one
// could not be resolved).
func (sw *seedWorld) apiQuietSends() {
	for _, ch := range sw.channels[:sw.res.groups] {
		s := &apiSend{req: node.SendMessage{FromUID: sw.members[ch][0], Channel: ch, Payload: []byte("no client_msg_no")}}
		sw.addAPISend(s)
	}
}

func (sw *seedWorld) addAPISend(s *apiSend) {
	s.n = len(sw.apiSends)
	sw.apiSends = append(sw.apiSends, s)
	sw.apiAttempt(s)
}

func (sw *seedWorld) apiSettled() bool {
	for _, s := range sw.apiSends {
		if !s.done {
			return false
		}
	}
	return true
}
