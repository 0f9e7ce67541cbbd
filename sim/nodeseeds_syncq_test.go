package sim_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/jindou-im/jindou/chaos"
	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/node/state"
	"github.com/jindou-im/jindou/sim/world"
)

// The sync_once queue and message events in the seeds' workload: a back
// end sends sync_once messages over the API to a group and a person chat
// of their own (not the checked channels), receivers pull their queue
// (/message/sync) and acknowledge it (/message/syncack) on the node that
// answered, and a bot streams events into messages (/message/event)
// that a reader syncs (/message/eventsync). One request at a time, each
// retried across crashes. Checked: a pull answers only queued sync_once
// messages, each channel's in seq order, never one a syncack acknowledged
// before the pull began, and at the end every acknowledged send not
// acknowledged by its receiver is still queued; an event's msg_event_seq
// grows with each new event, a delta after close is answered with the
// closed key, and event syncs answer in seq order a text that is a prefix
// of the stream's whole text, holding at least what was acknowledged.

const (
	syncqSender = "syncq-s"
	// syncqSends bounds the sync_once sends, syncqStreams the streams.
	syncqSends   = 24
	syncqStreams = 3
)

var syncqReceivers = []string{"syncq-r1", "syncq-r2"}

type syncqWork struct {
	sw         *seedWorld
	r          *rand.Rand
	group, tmp node.ChannelKey
	// busy: a request is in flight on node on (its incarnation inc).
	busy bool
	on   *world.Node
	inc  *node.Node
	// sends: cmn → whether its send was acknowledged; pending the send
	// being retried.
	sends   map[string]bool
	pending string
	nsends  int
	// acked: receiver → cmn → when a syncack acknowledging it completed;
	// maybeAcked: cmns a syncack of unknown outcome may have acknowledged.
	acked, maybeAcked map[string]map[string]time.Duration
	streams           []*syncqStream
	// stopped: the final check runs, the workload is over.
	stopped bool
}

// syncqStream is one message's stream of events: chunks, then a close,
// then one late delta.
type syncqStream struct {
	cmn     string
	chunks  []string
	next    int    // the event being appended: chunk index; len = close; len+1 = late; len+2 done
	lastSeq uint64 // msg_event_seq of the last acknowledged event
	ackText string // the text of the acknowledged deltas
}

func (s *syncqStream) whole() string { return strings.Join(s.chunks, "") }

func (sw *seedWorld) startSyncQueue() {
	q := &syncqWork{sw: sw, r: rand.New(sw.Sim.Rand("syncq")), group: node.ChannelKey{Type: proto.ChannelGroup, ID: "syncq-g"},
		tmp:   node.ChannelKey{Type: proto.ChannelTemp, ID: "syncq-t"},
		sends: map[string]bool{}, acked: map[string]map[string]time.Duration{}, maybeAcked: map[string]map[string]time.Duration{}}
	sw.syncq = q
	if _, err := sw.setupCall(node.ChannelUpsert{Channel: q.group, Subscribers: append([]string{syncqSender}, syncqReceivers...)}); err != nil {
		sw.fail("creating %s: %v", q.group, err)
	}
	if _, err := sw.setupCall(node.TmpSubscriberSet{ChannelID: q.tmp.ID, UIDs: []string{syncqSender, syncqReceivers[0]}}); err != nil {
		sw.fail("creating %s: %v", q.tmp, err)
	}
	for _, r := range syncqReceivers {
		q.acked[r], q.maybeAcked[r] = map[string]time.Duration{}, map[string]time.Duration{}
	}
	for i := range syncqStreams {
		s := &syncqStream{cmn: fmt.Sprintf("bot-%d", i)}
		for j := range 2 + q.r.IntN(5) {
			s.chunks = append(s.chunks, fmt.Sprintf("<%d.%d>", i, j))
		}
		q.streams = append(q.streams, s)
	}
	var tick func()
	tick = func() {
		switch {
		case !sw.quiet:
			sw.Sim.After(time.Duration(50+q.r.IntN(300))*time.Millisecond, "syncq", tick)
		case !q.settled():
			// The quiet phase finishes the streams without waiting long.
			sw.Sim.After(time.Duration(5+q.r.IntN(20))*time.Millisecond, "syncq", tick)
		}
		q.step()
	}
	sw.Sim.After(200*time.Millisecond, "syncq", tick)
}

// submit runs req on an up node, one request at a time; a request lost
// to a crash frees the worker at its next step.
func (q *syncqWork) submit(req node.Request, done func(n *world.Node, inc *node.Node, v any, err error)) {
	n := q.sw.api()
	if n == nil {
		return
	}
	q.busy, q.on, q.inc = true, n, n.Server()
	inc := q.inc
	n.Submit(req, func(v any, err error) {
		if q.inc != inc {
			return // given up for lost
		}
		q.busy = false
		done(n, inc, v, err)
	})
}

func (q *syncqWork) step() {
	if q.stopped {
		return
	}
	if q.busy {
		if q.on.Server() == q.inc {
			return
		}
		q.busy, q.inc = false, nil // lost to a crash: its outcome is unknown
	}
	switch k := q.r.IntN(10); {
	case q.pending != "" || (k < 2 && q.nsends < syncqSends && !q.sw.quiet):
		q.send()
	case q.sw.quiet && k < 7 && q.unfinished() != nil:
		q.appendEvent(q.unfinished()) // the quiet phase finishes the streams
	case k < 3:
		q.setTmp()
	case k < 6:
		q.pull(syncqReceivers[q.r.IntN(len(syncqReceivers))], 1+q.r.IntN(6), q.r.IntN(3) != 0)
	case k < 8:
		q.appendEvent(q.streams[q.r.IntN(len(q.streams))])
	default:
		q.syncEvents(q.streams[q.r.IntN(len(q.streams))])
	}
}

// setTmp sets the temporary channel's subscribers: the sender and the
// first receiver always, the second at random (a set lost to a crash
// may still apply later, so the second receiver may or may not get a
// temporary channel's message; the first must).
func (q *syncqWork) setTmp() {
	uids := []string{syncqSender, syncqReceivers[0]}
	if q.r.IntN(2) == 0 {
		uids = append(uids, syncqReceivers[1])
	}
	q.submit(node.TmpSubscriberSet{ChannelID: q.tmp.ID, UIDs: uids}, func(_ *world.Node, _ *node.Node, _ any, err error) {
		if err != nil && !transient(err) {
			q.sw.fail("tmpchannel subscriber_set %v: %v", uids, err)
		}
	})
}

// send sends (or sends again, with its client_msg_no) a sync_once
// message to the group, the temporary channel or the first receiver.
func (q *syncqWork) send() {
	if q.pending == "" {
		q.nsends++
		q.pending = fmt.Sprintf("sq-%d", q.nsends)
	}
	cmn := q.pending
	ch := q.group
	switch q.nsends % 3 {
	case 0:
		ch = node.ChannelKey{Type: proto.ChannelPerson, ID: syncqReceivers[0]}
	case 1:
		ch = q.tmp
	}
	req := node.SendMessage{FromUID: syncqSender, Channel: ch, ClientMsgNo: cmn, Header: node.Header{SyncOnce: true}, Payload: []byte(cmn)}
	q.sends[cmn] = false
	q.submit(req, func(_ *world.Node, _ *node.Node, _ any, err error) {
		if transient(err) {
			return
		}
		if err != nil {
			q.sw.fail("sync_once send %s: %v", cmn, err)
		}
		q.sends[cmn], q.pending = err == nil, ""
		if err == nil && ch == q.tmp {
			q.sw.res.coverage.Add(chaos.TmpChannelSends, 1)
		}
	})
}

// recipient: uid may get sync_once send cmn. The person chat's goes to
// the first receiver only; the temporary channel's to the first and
// maybe the second (setTmp).
func (q *syncqWork) recipient(uid, cmn string) bool {
	var i int
	fmt.Sscanf(cmn, "sq-%d", &i)
	return i%3 != 0 || uid == syncqReceivers[0]
}

// owed: uid must get sync_once send cmn.
func (q *syncqWork) owed(uid, cmn string) bool {
	var i int
	fmt.Sscanf(cmn, "sq-%d", &i)
	return i%3 == 2 || uid == syncqReceivers[0]
}

// pull pulls uid's queue, checks the answer, and acknowledges it on the
// same node if ack.
func (q *syncqWork) pull(uid string, limit int, ack bool) {
	start := q.sw.Now()
	q.submit(node.SyncOncePull{UID: uid, Limit: limit}, func(n *world.Node, inc *node.Node, v any, err error) {
		if err != nil {
			if !transient(err) {
				q.sw.fail("sync_once pull of %s: %v", uid, err)
			}
			return
		}
		msgs := v.([]*node.Message)
		q.checkPull(uid, start, limit, msgs)
		if !ack || len(msgs) == 0 || n.Server() != inc {
			return
		}
		q.ack(uid, n, inc, msgs)
	})
}

func (q *syncqWork) checkPull(uid string, start time.Duration, limit int, msgs []*node.Message) {
	if len(msgs) > limit {
		q.sw.fail("sync_once pull of %s: %d messages past its limit %d", uid, len(msgs), limit)
	}
	last := map[node.ChannelKey]uint64{}
	for _, m := range msgs {
		cmn := m.ClientMsgNo
		_, sent := q.sends[cmn]
		switch {
		case !sent || m.FromUID != syncqSender || !m.Header.SyncOnce || string(m.Payload) != cmn || !q.recipient(uid, cmn):
			q.sw.fail("sync_once pull of %s answered %s from %s (sync_once %v), not a sync_once message sent to it", uid, cmn, m.FromUID, m.Header.SyncOnce)
		case m.Seq <= last[m.Channel]:
			q.sw.fail("sync_once pull of %s: %s seq %d after seq %d", uid, m.Channel, m.Seq, last[m.Channel])
		}
		last[m.Channel] = m.Seq
		if at, ok := q.acked[uid][cmn]; ok && at < start {
			q.sw.fail("sync_once pull of %s at %v answered %s, acknowledged at %v", uid, start, cmn, at)
		}
	}
}

// ack acknowledges the pull's answer on the node that answered it (the
// node remembers what it answered).
func (q *syncqWork) ack(uid string, n *world.Node, inc *node.Node, msgs []*node.Message) {
	q.busy, q.on, q.inc = true, n, inc
	for _, m := range msgs {
		q.maybeAcked[uid][m.ClientMsgNo] = q.sw.Now()
	}
	n.Submit(node.SyncOnceAck{UID: uid, LastMessageSeq: msgs[len(msgs)-1].Seq}, func(_ any, err error) {
		if q.inc != inc {
			return
		}
		q.busy = false
		if err != nil {
			if !transient(err) {
				q.sw.fail("syncack of %s: %v", uid, err)
			}
			return
		}
		for _, m := range msgs {
			q.acked[uid][m.ClientMsgNo] = q.sw.Now()
		}
		q.sw.res.coverage.Add(chaos.SyncOnceAcks, 1)
	})
}

// appendEvent appends the stream's next event (again, with its event id,
// until it is answered).
func (q *syncqWork) appendEvent(s *syncqStream) {
	if s.next > len(s.chunks)+1 {
		return
	}
	req := node.EventAppend{Channel: q.group, FromUID: "bot", ClientMsgNo: s.cmn, EventID: fmt.Sprintf("%s/%d", s.cmn, s.next)}
	switch {
	case s.next < len(s.chunks):
		req.EventType = state.EventStreamDelta
		req.Payload, _ = json.Marshal(map[string]string{"kind": "text", "delta": s.chunks[s.next]})
	case s.next == len(s.chunks):
		req.EventType = state.EventStreamClose
	default:
		req.EventType = state.EventStreamDelta
		req.Payload = []byte(`{"kind":"text","delta":"late"}`)
	}
	q.submit(req, func(_ *world.Node, _ *node.Node, v any, err error) {
		if err != nil {
			if !transient(err) {
				q.sw.fail("event %s: %v", req.EventID, err)
			}
			return
		}
		got := v.(node.EventAppendReply)
		late := s.next == len(s.chunks)+1
		wantStatus := state.EventOpen
		if s.next >= len(s.chunks) {
			wantStatus = state.EventClosed
		}
		switch {
		case late && got.MsgEventSeq != s.lastSeq:
			q.sw.fail("a delta after %s's close answered seq %d, want the close's %d", s.cmn, got.MsgEventSeq, s.lastSeq)
		case !late && got.MsgEventSeq <= s.lastSeq:
			q.sw.fail("event %s: seq %d after %d", req.EventID, got.MsgEventSeq, s.lastSeq)
		case got.StreamStatus != wantStatus:
			q.sw.fail("event %s: status %q, want %q", req.EventID, got.StreamStatus, wantStatus)
		}
		if s.next < len(s.chunks) {
			s.ackText += s.chunks[s.next]
		}
		s.lastSeq, s.next = got.MsgEventSeq, s.next+1
	})
}

// syncEvents reads the stream's events and checks them.
func (q *syncqWork) syncEvents(s *syncqStream) {
	acked, closed := s.ackText, s.next > len(s.chunks)
	q.submit(node.EventSync{Channel: q.group, ClientMsgNo: s.cmn}, func(_ *world.Node, _ *node.Node, v any, err error) {
		if err != nil {
			if !transient(err) {
				q.sw.fail("event sync of %s: %v", s.cmn, err)
			}
			return
		}
		q.checkEvents(s, v.(node.EventSyncReply), acked, closed)
	})
}

func (q *syncqWork) checkEvents(s *syncqStream, got node.EventSyncReply, acked string, closed bool) {
	var last uint64
	for _, e := range got.Events {
		if e.Seq <= last {
			q.sw.fail("event sync of %s: seq %d after %d", s.cmn, e.Seq, last)
		}
		last = e.Seq
		if e.EventKey != state.EventKeyDefault {
			q.sw.fail("event sync of %s: key %q", s.cmn, e.EventKey)
			continue
		}
		var snap struct{ Text string }
		_ = json.Unmarshal(e.Payload, &snap)
		if !strings.HasPrefix(s.whole(), snap.Text) || !strings.HasPrefix(snap.Text, acked) {
			q.sw.fail("event sync of %s: text %q, want a prefix of %q holding %q", s.cmn, snap.Text, s.whole(), acked)
		}
		if closed && (e.Status != state.EventClosed || snap.Text != s.whole()) {
			q.sw.fail("event sync of %s after its close: %s %q", s.cmn, e.Status, snap.Text)
		}
		q.sw.res.coverage.Add(chaos.StreamEvents, 1)
	}
	if acked != "" && len(got.Events) == 0 {
		q.sw.fail("event sync of %s: no event, %q acknowledged", s.cmn, acked)
	}
}

// unfinished is the first stream with events left to append, or nil.
func (q *syncqWork) unfinished() *syncqStream {
	for _, s := range q.streams {
		if s.next <= len(s.chunks)+1 {
			return s
		}
	}
	return nil
}

// settled: no request in flight, every send answered, every stream
// closed.
func (q *syncqWork) settled() bool {
	return !q.busy && q.pending == "" && q.unfinished() == nil
}

func (q *syncqWork) progress() string {
	var parts []string
	for _, s := range q.streams {
		parts = append(parts, fmt.Sprintf("%s at %d of %d", s.cmn, s.next, len(s.chunks)+2))
	}
	return strings.Join(parts, ", ")
}

// checkSyncQueue, in the quiet phase: once the workload settled, every
// acknowledged send that no syncack may have acknowledged is in its
// receivers' queues.
func (sw *seedWorld) checkSyncQueue(deadline time.Duration) {
	q := sw.syncq
	sw.runUntil(deadline, q.settled, "the sync_once sends and stream events answered")
	if !q.settled() {
		sw.fail("sync_once/events workload: busy=%v pending=%q %s", q.busy, q.pending, q.progress())
	}
	q.stopped = true
	for _, uid := range syncqReceivers {
		n, start := sw.api(), sw.Now()
		v, err := n.Call(node.SyncOncePull{UID: uid, Limit: 10_000})
		if err != nil {
			sw.fail("final sync_once pull of %s: %v", uid, err)
			continue
		}
		msgs := v.([]*node.Message)
		q.checkPull(uid, start, 10_000, msgs)
		var got []string
		for _, m := range msgs {
			got = append(got, m.ClientMsgNo)
		}
		for cmn, ok := range q.sends {
			if _, maybe := q.maybeAcked[uid][cmn]; ok && !maybe && q.owed(uid, cmn) && !slices.Contains(got, cmn) {
				sw.fail("sync_once message %s, acknowledged and never acknowledged by %s, is not in its queue (%v)", cmn, uid, got)
			}
		}
	}
}
