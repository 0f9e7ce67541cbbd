package linearize

import (
	"fmt"
	"slices"
	"time"

	"pgregory.net/rapid"
)

// A generated history comes from a sequential model of the server: a log
// per channel to which every operation is applied, one at a time, at its
// linearization point. Each operation then gets a call before and a return
// after that point, clients are assigned so that none has two operations
// at once, and RECVs and restart logs are derived from the same model. So
// a generated history is valid by construction, and the checker must
// accept it; each mutation then breaks one property, and it must not.

// gop is one generated operation.
type gop struct {
	kind      opKind
	channel   string
	call, lin time.Duration
	ret       time.Duration
	outcome   Outcome
	send      Send
	msg       Message // the ack, or for an unknown send what was stored
	applied   bool    // a send that stored a message
	req       SyncRequest
	msgs      []Message
	tail      uint64
}

type gpush struct {
	at      time.Duration
	conn    string
	channel string
	msg     Message
}

type grestart struct {
	at   time.Duration
	logs []ChannelLog
}

// gen is the sequential model and the history generated from it.
type gen struct {
	channels []string
	logs     map[string][]Message // the model's logs; finally the final logs
	appended map[string][]time.Duration
	now      time.Duration // the latest linearization point
	nextID   int64
	nextCmn  int

	ops      []gop
	pushes   []gpush
	restarts []grestart
}

func newGen(t *rapid.T) *gen {
	g := &gen{logs: map[string][]Message{}, appended: map[string][]time.Duration{}, nextID: 1000}
	for i := range rapid.IntRange(1, 3).Draw(t, "channels") {
		ch := fmt.Sprintf("2:g%d", i)
		g.channels = append(g.channels, ch)
		g.logs[ch] = nil
	}
	return g
}

// at draws the next linearization point and an interval around it.
func (g *gen) at(t *rapid.T) (call, lin, ret time.Duration) {
	g.now += ms(rapid.IntRange(0, 4).Draw(t, "gap"))
	call = max(0, g.now-ms(rapid.IntRange(0, 15).Draw(t, "before")))
	return call, g.now, g.now + ms(rapid.IntRange(0, 15).Draw(t, "after"))
}

func (g *gen) outcome(t *rapid.T, kinds ...Outcome) Outcome {
	return rapid.SampledFrom(kinds).Draw(t, "outcome")
}

// store appends a message to channel's log at g.now.
func (g *gen) store(ch, from, cmn string) Message {
	g.nextID++
	m := Message{Seq: uint64(len(g.logs[ch]) + 1), MessageID: g.nextID, FromUID: from, ClientMsgNo: cmn, Payload: payloadOf(cmn)}
	g.logs[ch] = append(g.logs[ch], m)
	g.appended[ch] = append(g.appended[ch], g.now)
	return m
}

// payloadOf is the payload sent, and so stored and seen, with cmn.
func payloadOf(cmn string) string { return "text of " + cmn + " 你好" }

func (g *gen) stored(ch string, k msgKey) (Message, bool) {
	for _, m := range g.logs[ch] {
		if m.FromUID == k.from && m.ClientMsgNo == k.cmn {
			return m, true
		}
	}
	return Message{}, false
}

// unknownReturn: a client that gives up does so any time after its call,
// maybe before the send took effect.
func (g *gen) unknownReturn(t *rapid.T, call time.Duration) time.Duration {
	return call + ms(rapid.IntRange(0, 20).Draw(t, "gave up after"))
}

// send sends a new message, or resends one sent before (same from uid and
// client_msg_no): if that one is stored, the server answers with it and
// stores nothing.
func (g *gen) send(t *rapid.T, resend bool) {
	ch := rapid.SampledFrom(g.channels).Draw(t, "channel")
	call, lin, ret := g.at(t)
	o := gop{kind: opSend, channel: ch, call: call, lin: lin, ret: ret}
	var prev []gop
	for _, p := range g.ops {
		if p.kind == opSend && p.channel == ch {
			prev = append(prev, p)
		}
	}
	if resend && len(prev) > 0 {
		o.send = rapid.SampledFrom(prev).Draw(t, "resent").send
	} else {
		g.nextCmn++
		o.send = Send{Channel: ch, FromUID: rapid.SampledFrom([]string{"u1", "u2", "u3"}).Draw(t, "from"),
			ClientMsgNo: fmt.Sprintf("m%d", g.nextCmn)}
		o.send.Payload = payloadOf(o.send.ClientMsgNo)
	}
	o.outcome = g.outcome(t, OK, OK, OK, Failed, Unknown)
	if o.outcome == Failed {
		g.ops = append(g.ops, o)
		return
	}
	if o.outcome == Unknown {
		o.ret = g.unknownReturn(t, call)
		if !rapid.Bool().Draw(t, "took effect") {
			g.ops = append(g.ops, o)
			return
		}
	}
	if m, ok := g.stored(ch, msgKey{o.send.FromUID, o.send.ClientMsgNo}); ok {
		o.msg = m // deduplicated
	} else {
		o.msg, o.applied = g.store(ch, o.send.FromUID, o.send.ClientMsgNo), true
	}
	g.ops = append(g.ops, o)
}

// syncAnswer is what /channel/messagesync returns, computed by filtering
// the log as API.md words it (not through SyncWindow, which it checks).
func syncAnswer(log []Message, req SyncRequest) []Message {
	var in []Message
	for _, m := range log {
		s := m.Seq
		switch {
		case req.Start == 0 && req.End == 0:
			in = append(in, m)
		case req.Mode == Up && s >= req.Start && (req.End == 0 || s < req.End):
			in = append(in, m)
		case req.Mode == Down && (req.Start == 0 || s <= req.Start) && s > req.End:
			in = append(in, m)
		}
	}
	if req.Limit == 0 || uint64(len(in)) <= req.Limit {
		return in
	}
	if req.Mode == Up && !(req.Start == 0 && req.End == 0) {
		return in[:req.Limit]
	}
	return in[uint64(len(in))-req.Limit:]
}

func (g *gen) read(t *rapid.T, kind opKind) {
	ch := rapid.SampledFrom(g.channels).Draw(t, "channel")
	call, lin, ret := g.at(t)
	o := gop{kind: kind, channel: ch, call: call, lin: lin, ret: ret}
	o.outcome = g.outcome(t, OK, OK, OK, OK, Failed, Unknown)
	log := g.logs[ch]
	if kind == opMaxSeq {
		o.tail = uint64(len(log))
	} else {
		n := uint64(len(log))
		o.req = SyncRequest{
			Channel: ch,
			Mode:    rapid.SampledFrom([]PullMode{Up, Down}).Draw(t, "mode"),
			Start:   rapid.Uint64Range(0, n+2).Draw(t, "start"),
			End:     rapid.SampledFrom([]uint64{0, 0, rapid.Uint64Range(0, n+3).Draw(t, "end")}).Draw(t, "end?"),
			Limit:   rapid.Uint64Range(0, 4).Draw(t, "limit"),
		}
		o.msgs = syncAnswer(log, o.req)
	}
	if o.outcome == Unknown {
		o.ret = g.unknownReturn(t, call)
	}
	g.ops = append(g.ops, o)
}

// deliver generates the RECVs of two connections per channel: each gets
// some of the messages, in seq order, after they were stored, and now and
// then one it already got again.
func (g *gen) deliver(t *rapid.T) {
	for _, ch := range g.channels {
		for _, conn := range []string{"k1", "k2"} {
			var last time.Duration
			var got []Message
			for i, m := range g.logs[ch] {
				if !rapid.Bool().Draw(t, "delivered") {
					continue
				}
				last = max(last, g.appended[ch][i]+ms(rapid.IntRange(0, 10).Draw(t, "delay")))
				g.pushes = append(g.pushes, gpush{last, conn, ch, m})
				got = append(got, m)
				if rapid.IntRange(0, 4).Draw(t, "resend?") == 0 {
					g.pushes = append(g.pushes, gpush{last, conn, ch, rapid.SampledFrom(got).Draw(t, "resent")})
				}
			}
		}
	}
}

// restart takes a restart at the current time, with each channel's log as
// the model has it then; later operations take effect strictly after it.
func (g *gen) restart() {
	rs := grestart{at: g.now}
	for _, ch := range g.channels {
		rs.logs = append(rs.logs, ChannelLog{Channel: ch, Messages: slices.Clone(g.logs[ch])})
	}
	g.restarts = append(g.restarts, rs)
	g.now += time.Millisecond
}

// record feeds the history to a Recorder: operations by call time, each on
// a client free by then.
func (g *gen) record() *Recorder {
	r := NewRecorder()
	order := make([]int, len(g.ops))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return int(g.ops[a].call - g.ops[b].call) })
	var freeAt []time.Duration // client i is free from freeAt[i]
	for _, i := range order {
		o := g.ops[i]
		c := slices.IndexFunc(freeAt, func(t time.Duration) bool { return t <= o.call })
		if c < 0 {
			c = len(freeAt)
			freeAt = append(freeAt, 0)
		}
		freeAt[c] = o.ret
		client := fmt.Sprintf("c%d", c)
		var id OpID
		switch o.kind {
		case opSend:
			id = r.CallSend(o.call, client, o.send)
		case opSync:
			id = r.CallSync(o.call, client, o.req)
		case opMaxSeq:
			id = r.CallMaxSeq(o.call, client, o.channel)
		}
		switch {
		case o.outcome == Failed:
			r.Failed(id, o.ret, "refused")
		case o.outcome == Unknown:
			r.Unknown(id, o.ret)
		case o.kind == opSend:
			r.SendOK(id, o.ret, o.msg.MessageID, o.msg.Seq)
		case o.kind == opSync:
			r.SyncOK(id, o.ret, o.msgs)
		default:
			r.MaxSeqOK(id, o.ret, o.tail)
		}
	}
	for _, p := range g.pushes {
		r.Received(p.at, p.conn, p.channel, p.msg)
	}
	for i, rs := range g.restarts {
		r.Restarted(rs.at, fmt.Sprintf("n%d", i), rs.logs...)
	}
	for _, ch := range g.channels {
		r.FinalLog(ch, g.logs[ch])
	}
	return r
}

// generate runs the model through a random sequence of operations.
func generate(t *rapid.T) *gen {
	g := newGen(t)
	t.Repeat(map[string]func(*rapid.T){
		"send":     func(t *rapid.T) { g.send(t, false) },
		"resend":   func(t *rapid.T) { g.send(t, true) },
		"sync":     func(t *rapid.T) { g.read(t, opSync) },
		"max-seq":  func(t *rapid.T) { g.read(t, opMaxSeq) },
		"restart":  func(t *rapid.T) { g.restart() },
		"send too": func(t *rapid.T) { g.send(t, false) },
	})
	g.deliver(t)
	return g
}
