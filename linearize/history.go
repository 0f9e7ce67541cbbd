package linearize

import (
	"fmt"
	"math"
	"sync"
	"time"
)

// Forever is the end of an interval that had not ended when the run stopped
// (a subscription still online), and the return time given to a send whose
// outcome is unknown but that took effect: it may have happened at any time
// after its call.
const Forever = time.Duration(math.MaxInt64)

// A Message is one stored message as an operation saw it. Which fields are
// filled depends on who saw it: a SENDACK gives MessageID and Seq; a sync, a
// RECV and a stored log give the first four.
type Message struct {
	Seq         uint64
	MessageID   int64
	ClientMsgNo string
	FromUID     string
	// Payload is the message's payload as the client decrypted it (a RECV)
	// or as the server returned it (a sync, a stored log). "" means not
	// recorded: payloads are compared only where both sides have one.
	Payload string
}

func (m Message) String() string {
	return fmt.Sprintf("seq %d id %d", m.Seq, m.MessageID)
}

// Outcome is what a client learned about its operation.
type Outcome uint8

const (
	// Pending: called, not returned yet. An operation still pending when the
	// history is checked is treated as Unknown.
	Pending Outcome = iota
	// OK: the operation happened and its result is recorded.
	OK
	// Failed: the operation definitely did not happen (a SENDACK or HTTP
	// response with a refusal reason).
	Failed
	// Unknown: the client cannot tell (timeout, connection lost). A send
	// with this outcome may or may not be stored; it is resolved from the
	// final stored log before checking.
	Unknown
)

func (o Outcome) String() string {
	switch o {
	case Pending:
		return "pending"
	case OK:
		return "ok"
	case Failed:
		return "failed"
	case Unknown:
		return "unknown"
	}
	return fmt.Sprintf("outcome(%d)", uint8(o))
}

// A Send is the request of one send: SEND over a connection or POST
// /message/send.
type Send struct {
	Channel     string // channel key, e.g. "2:group1"
	FromUID     string
	ClientMsgNo string
	// Conn is the sending connection, "" over HTTP. The sending connection
	// is the one subscriber connection that does not get a RECV.
	Conn string
	// Payload is the plaintext payload sent; "" means not recorded (every
	// payload seen for the message is then compared only with the stored
	// one).
	Payload string
}

// PullMode is /channel/messagesync's pull_mode.
type PullMode uint8

const (
	Down PullMode = 0 // seqs below Start, the newest Limit of them
	Up   PullMode = 1 // seqs from Start (inclusive) to End (exclusive)
)

// A SyncRequest is the request of one POST /channel/messagesync. Limit is
// the limit the server applied; 0 means no limit. See SyncWindow for the
// range it asks for.
type SyncRequest struct {
	Channel string
	Start   uint64
	End     uint64
	Limit   uint64
	Mode    PullMode
}

// An OpID names one recorded operation: the Call that created it returns
// it, and the Return methods take it.
type OpID int

type opKind uint8

const (
	opSend opKind = iota
	opSync
	opMaxSeq
)

func (k opKind) String() string {
	switch k {
	case opSend:
		return "send"
	case opSync:
		return "sync"
	case opMaxSeq:
		return "max-seq"
	}
	return "op?"
}

// op is one recorded operation.
type op struct {
	kind    opKind
	client  string
	row     int // porcupine client id: one row per client until an unknown outcome
	channel string
	call    time.Duration
	ret     time.Duration // meaningful once outcome != Pending
	outcome Outcome
	reason  string // why it failed, when Failed

	send Send        // kind == opSend
	req  SyncRequest // kind == opSync

	msg  Message   // opSend, OK: MessageID and Seq from the ack
	msgs []Message // opSync, OK: the messages returned
	tail uint64    // opMaxSeq, OK
}

// A push is one RECV observed on a connection.
type push struct {
	at      time.Duration
	conn    string
	channel string
	msg     Message
}

// A restart marks a node restart and carries logs read right after it.
type restart struct {
	at   time.Duration
	node string
	logs []ChannelLog
}

// A ChannelLog is the stored log of one channel, as read through the
// cluster: every message, in seq order.
type ChannelLog struct {
	Channel  string
	Messages []Message
}

// A Subscription says that connection Conn was online and a subscriber of
// Channel during [From, To). To is Forever if it still was at the end.
type Subscription struct {
	Conn     string
	Channel  string
	From, To time.Duration
}

// A Recorder stores the history of one run. Simulated clients call it as
// they act, with virtual times (durations since the run's start); the seed
// runner then adds the final stored logs and calls Check. It is safe for
// concurrent use, but the simulator calls it from one goroutine.
//
// Each client (a name the caller chooses) has at most one pending operation:
// calling again before the previous operation returned panics, as does a
// Return for an operation that already returned. Porcupine needs the same
// of its client ids, and also that a client whose operation ended Unknown
// never comes back (the operation may still take effect later). The Recorder
// handles that itself: after an Unknown outcome the client keeps its name
// but its next operation is recorded under a fresh porcupine client id.
type Recorder struct {
	mu sync.Mutex

	ops []op // every operation, in order of Call; OpID indexes it

	// pending maps a client to its operation not returned yet; a client
	// appears here at most once (one pending operation per client).
	pending map[string]OpID
	// row maps a client to its porcupine client id; deleted after an
	// Unknown outcome so the next Call gets a fresh one.
	row     map[string]int
	nextRow int
	// lastReturn is each client's latest return time: a client's next call
	// may not be earlier.
	lastReturn map[string]time.Duration

	pushes   []push
	restarts []restart
	final    map[string][]Message // channel → final stored log
	subs     []Subscription

	ext *rulesState // the permission model and views (rules.go)
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder {
	return &Recorder{
		pending:    map[string]OpID{},
		row:        map[string]int{},
		lastReturn: map[string]time.Duration{},
		final:      map[string][]Message{},
	}
}

func (r *Recorder) call(at time.Duration, client string, o op) OpID {
	r.mu.Lock()
	defer r.mu.Unlock()
	if at < 0 {
		panic(fmt.Sprintf("linearize: client %q: call at negative time %v", client, at))
	}
	if p, ok := r.pending[client]; ok {
		panic(fmt.Sprintf("linearize: client %q calls %v while op %d is pending", client, o.kind, p))
	}
	if last, ok := r.lastReturn[client]; ok && at < last {
		panic(fmt.Sprintf("linearize: client %q calls at %v, before its previous return at %v", client, at, last))
	}
	row, ok := r.row[client]
	if !ok {
		row = r.nextRow
		r.nextRow++
		r.row[client] = row
	}
	o.client, o.row, o.call, o.outcome = client, row, at, Pending
	id := OpID(len(r.ops))
	r.ops = append(r.ops, o)
	r.pending[client] = id
	return id
}

// CallSend records that client sent s at virtual time at.
func (r *Recorder) CallSend(at time.Duration, client string, s Send) OpID {
	return r.call(at, client, op{kind: opSend, channel: s.Channel, send: s})
}

// CallSync records that client asked /channel/messagesync for req.
func (r *Recorder) CallSync(at time.Duration, client string, req SyncRequest) OpID {
	if req.Mode != Up && req.Mode != Down {
		panic(fmt.Sprintf("linearize: client %q: sync with pull mode %d", client, req.Mode))
	}
	return r.call(at, client, op{kind: opSync, channel: req.Channel, req: req})
}

// CallMaxSeq records that client asked /channel/max_message_seq of channel.
func (r *Recorder) CallMaxSeq(at time.Duration, client, channel string) OpID {
	return r.call(at, client, op{kind: opMaxSeq, channel: channel})
}

// finish ends operation id with outcome o, after set fills in its result.
func (r *Recorder) finish(id OpID, at time.Duration, o Outcome, want opKind, anyKind bool, set func(*op)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if id < 0 || int(id) >= len(r.ops) {
		panic(fmt.Sprintf("linearize: return for unknown op %d", id))
	}
	p := &r.ops[id]
	if p.outcome != Pending {
		panic(fmt.Sprintf("linearize: op %d (%v by %q) returned twice", id, p.kind, p.client))
	}
	if !anyKind && p.kind != want {
		panic(fmt.Sprintf("linearize: op %d is a %v, returned as a %v", id, p.kind, want))
	}
	if at < p.call {
		panic(fmt.Sprintf("linearize: op %d returns at %v, before its call at %v", id, at, p.call))
	}
	p.ret, p.outcome = at, o
	if set != nil {
		set(p)
	}
	delete(r.pending, p.client)
	r.lastReturn[p.client] = at
	if o == Unknown {
		delete(r.row, p.client)
	}
}

// SendOK records that send id was acknowledged with messageID at seq.
func (r *Recorder) SendOK(id OpID, at time.Duration, messageID int64, seq uint64) {
	r.finish(id, at, OK, opSend, false, func(p *op) {
		p.msg = Message{Seq: seq, MessageID: messageID, ClientMsgNo: p.send.ClientMsgNo, FromUID: p.send.FromUID}
	})
}

// SyncOK records the messages sync id returned.
func (r *Recorder) SyncOK(id OpID, at time.Duration, msgs []Message) {
	r.finish(id, at, OK, opSync, false, func(p *op) {
		p.msgs = append([]Message(nil), msgs...)
	})
}

// MaxSeqOK records the tail seq max-seq read id returned.
func (r *Recorder) MaxSeqOK(id OpID, at time.Duration, seq uint64) {
	r.finish(id, at, OK, opMaxSeq, false, func(p *op) { p.tail = seq })
}

// Failed records that operation id definitely did not happen, for reason
// (for a send: a SENDACK or HTTP answer refusing it).
func (r *Recorder) Failed(id OpID, at time.Duration, reason string) {
	r.finish(id, at, Failed, 0, true, func(p *op) { p.reason = reason })
}

// Unknown records that the client cannot tell whether operation id took
// effect (timeout, connection lost). The client's next operation is
// recorded under a fresh porcupine client id.
func (r *Recorder) Unknown(id OpID, at time.Duration) {
	r.finish(id, at, Unknown, 0, true, nil)
}

// Received records a RECV of m in channel observed on connection conn.
func (r *Recorder) Received(at time.Duration, conn, channel string, m Message) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pushes = append(r.pushes, push{at: at, conn: conn, channel: channel, msg: m})
}

// Restarted marks that node restarted at virtual time at, with the logs of
// some channels read through the cluster right after it. Every send
// acknowledged before at must be in them.
func (r *Recorder) Restarted(at time.Duration, node string, logs ...ChannelLog) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.restarts = append(r.restarts, restart{at: at, node: node, logs: cloneLogs(logs)})
}

// FinalLog supplies the stored log of channel read from the final
// replicated state, in seq order. Every channel that has operations needs
// one (an empty log is a log). Calling it again for a channel replaces it.
func (r *Recorder) FinalLog(channel string, msgs []Message) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.final[channel] = append([]Message{}, msgs...)
}

// Subscribed records that connection conn was online and subscribed to
// channel during [from, to); to is Forever if still online at the end.
// Only used by the liveness check (Options.DeliveryBound).
func (r *Recorder) Subscribed(conn, channel string, from, to time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.subs = append(r.subs, Subscription{Conn: conn, Channel: channel, From: from, To: to})
}

func cloneLogs(logs []ChannelLog) []ChannelLog {
	out := make([]ChannelLog, len(logs))
	for i, l := range logs {
		out[i] = ChannelLog{Channel: l.Channel, Messages: append([]Message{}, l.Messages...)}
	}
	return out
}
