package sim_test

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/cryptotest"
	"time"

	"github.com/jindou-im/jindou/chaos"
	"github.com/jindou-im/jindou/internal/wkclient"
	"github.com/jindou-im/jindou/linearize"
	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/runtime"
	"github.com/jindou-im/jindou/sim"
)

// TestSeeds runs the whole node under one seeded world per seed: the seed
// draws the node's shape, the links, disk and clock, dozens of users in
// person and group chats, their disconnects and idempotent retries, and
// node crashes in the middle of traffic. Then a quiet phase: everyone
// reconnects, retries what is unknown, and sends a last message to each of
// its channels. Checked: every acknowledged send is stored at its seq, once;
// seqs have no gaps; no client_msg_no is stored twice; retries get the
// original seq; what clients received matches the store, in seq order per
// connection; every user received every last message of its channels.
func TestSeeds(t *testing.T) {
	first, n := seedRange()
	counter := chaos.NewCounter()
	for seed := first; seed < first+uint64(n); seed++ {
		runAndReportSeed(t, seed, counter)
	}
	// A fault class that never fired in a set of seeds means a fault was
	// switched off by mistake: the seeds would prove nothing about it.
	if n >= 20 {
		if missing := counter.Missing(singleNodeFaults); len(missing) > 0 {
			t.Errorf("in %d seeds these fault classes never fired: %v (fired: %s)", n, missing, counter)
		}
	}
	t.Logf("faults fired: %s", counter)
}

// TestKeptSeeds reruns the seeds that once caught a bug (sim/testdata/seeds).
func TestKeptSeeds(t *testing.T) {
	counter := chaos.NewCounter()
	for _, seed := range keptSeeds(t) {
		runAndReportSeed(t, seed, counter)
	}
}

// singleNodeFaults are the fault classes a one-node seed set must fire.
var singleNodeFaults = []chaos.Class{
	chaos.CrashPowerLoss, chaos.CrashProcess, chaos.CrashTorn, chaos.DiskErrors, chaos.DiskSlow,
	chaos.ClockJump, chaos.ClockDrift, chaos.ConnSlow, chaos.ConnFragment, chaos.ClientClose, chaos.ClientCut,
}

func keptSeeds(t *testing.T) []uint64 {
	data, err := os.ReadFile(filepath.Join("testdata", "seeds"))
	if err != nil {
		t.Fatal(err)
	}
	var seeds []uint64
	for _, line := range strings.Split(string(data), "\n") {
		line, _, _ = strings.Cut(line, "#")
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		var seed uint64
		if _, err := fmt.Sscan(line, &seed); err != nil {
			t.Fatalf("testdata/seeds: %q: %v", line, err)
		}
		seeds = append(seeds, seed)
	}
	return seeds
}

func runAndReportSeed(t *testing.T, seed uint64, counter *chaos.Counter) {
	cryptotest.SetGlobalRandom(t, seed)
	r := runNodeSeed(t, seed, counter)
	fmt.Printf("seed=%d trace=%016x users=%d groups=%d ops=%d sends=%d acked=%d unknown=%d crashes=%d restarts=%d disconnects=%d faults=%d events=%d virtual=%v wall=%v check=%v\n",
		seed, r.trace, r.users, r.groups, r.report.Ops, r.sends, r.acked, r.unknown, r.stats.Crashes, r.stats.Restarts,
		r.disconnects, len(r.plan), r.stats.Events, r.virtual, r.wall.Round(time.Millisecond), r.report.CheckDuration.Round(time.Millisecond))
	if len(r.failures) == 0 {
		return
	}
	for i, f := range r.failures {
		if i == 20 {
			t.Errorf("seed %d: ... %d more", seed, len(r.failures)-20)
			break
		}
		t.Errorf("seed %d: %s", seed, f)
	}
	t.Errorf("seed %d fault plan:\n%s", seed, r.plan)
	if r.report.Visualization != "" {
		t.Errorf("seed %d: porcupine visualization: %s", seed, r.report.Visualization)
	}
	t.Errorf("replay: go test ./sim -run '^TestSeeds$' -seed=%d -v", seed)
}

type nodeSeedResult struct {
	plan                               chaos.Plan
	report                             linearize.Report
	trace                              uint64
	users, groups                      int
	sends, acked, unknown, disconnects int
	stats                              sim.Stats
	virtual, wall                      time.Duration
	failures                           []string
}

const (
	nodeSafety = 10 * time.Second
	// deliveryBound is how soon a message acknowledged while a subscriber
	// was online must reach it.
	deliveryBound = 3 * time.Second
	nodeLiveness  = 15 * time.Second
)

// seedWorld is the state of one node seed.
type seedWorld struct {
	*nodeWorld
	env   *rand.Rand
	users []*seedUser
	// members of each stored channel.
	members  map[node.ChannelKey][]string
	channels []node.ChannelKey
	quiet    bool
	res      *nodeSeedResult
	rec      *linearize.Recorder
	counter  *chaos.Counter
	// conns numbers client connections for the history.
	conns int
	reads int
}

func (sw *seedWorld) fail(format string, args ...any) {
	sw.res.failures = append(sw.res.failures, fmt.Sprintf("at %v: ", sw.s.Now())+fmt.Sprintf(format, args...))
}

// seedUser is one user with one connection at a time.
type seedUser struct {
	sw  *seedWorld
	uid string
	c   *wkclient.Client
	rng *rand.Rand
	// targets are what the user may send to: its groups, and peers.
	targets []target
	sends   map[string]*sendRec // by client_msg_no
	order   []string            // client_msg_nos in send order
	n       int
	// lastSeq is, per channel, the last seq received on this connection.
	lastSeq map[node.ChannelKey]uint64
	// got records every RECV: channel → seq → message id.
	got map[node.ChannelKey]map[uint64]int64
	// conn names the current connection in the history; onlineAt is when
	// it got its CONNACK (-1: not online).
	conn     string
	onlineAt time.Duration
}

type target struct {
	addr string // as the client addresses it
	typ  proto.ChannelType
	key  node.ChannelKey // as stored
}

// sendRec is a send and what is known of it.
type sendRec struct {
	t        target
	cmn      string
	payload  string
	acked    bool
	seq      uint64
	id       int64
	inflight bool
	final    bool
	// op is the history's operation of the attempt in flight.
	op       linearize.OpID
	attempts int
}

func runNodeSeed(t *testing.T, seed uint64, counter *chaos.Counter) *nodeSeedResult {
	return runNodeSeedWatch(t, seed, counter, nil)
}

func runNodeSeedWatch(t *testing.T, seed uint64, counter *chaos.Counter, watch func(*seedWorld)) *nodeSeedResult {
	start := time.Now()
	res := &nodeSeedResult{}
	s := sim.New(sim.Config{Seed: seed})
	env := rand.New(s.Rand("world"))
	cfg := node.Config{
		Slots: 1 + env.IntN(64), SlotLoops: 1 + env.IntN(3), GatewayLoops: 1 + env.IntN(3),
		ResendInterval: time.Duration(1+env.IntN(5)) * time.Second, IdleTimeout: time.Minute,
		// Its own stream: a new draw must not shift the rest of the world.
		CompactLogAfter: []int{4, 16, 64, 10000}[rand.New(s.Rand("compaction")).IntN(4)],
	}
	w := &nodeWorld{t: t, s: s, cfg: cfg}
	w.p = s.AddProcess(1, func() runtime.Process { return node.New(w.cfg) })
	sw := &seedWorld{nodeWorld: w, env: env, members: map[node.ChannelKey][]string{}, res: res,
		rec: linearize.NewRecorder(), counter: counter}
	w.p.Start()
	sw.makeUsers(12 + env.IntN(30))
	// The faults start once the channels exist.
	res.plan = chaos.DrawSingleNode(rand.New(s.Rand("faults")), chaos.PlanConfig{Node: 1, Duration: nodeSafety - 2*time.Second, MaxCrash: 3})
	res.plan.Schedule(s, chaos.Hooks{AfterRestart: func(runtime.NodeID) { sw.readAfterRestart() }}, counter)
	sw.connectUsers()
	sw.startReader()
	if watch != nil {
		watch(sw)
	}
	if err := s.Run(nodeSafety); err != nil {
		sw.fail("safety phase: %v", err)
		return sw.finish(start)
	}
	sw.quietPhase()
	counter.AddStats(s.Stats())
	return sw.finish(start)
}

func (sw *seedWorld) finish(start time.Time) *nodeSeedResult {
	sw.res.trace, sw.res.stats, sw.res.virtual, sw.res.wall = sw.s.TraceHash(), sw.s.Stats(), sw.s.Now(), time.Since(start)
	sw.res.users = len(sw.users)
	for _, u := range sw.users {
		for _, cmn := range u.order {
			sw.res.sends++
			if u.sends[cmn].acked {
				sw.res.acked++
			}
		}
	}
	return sw.res
}

// makeUsers creates users, groups and person chats, and subscribes.
func (sw *seedWorld) makeUsers(n int) {
	for i := range n {
		uid := fmt.Sprintf("u%d", i)
		u := &seedUser{sw: sw, uid: uid, rng: rand.New(sw.s.Rand("user/" + uid)), sends: map[string]*sendRec{},
			got: map[node.ChannelKey]map[uint64]int64{}}
		u.c = sw.clientAs(uid, "d", proto.DeviceFlag(sw.env.IntN(3)), uint8(2+sw.env.IntN(5)))
		sw.users = append(sw.users, u)
	}
	sw.res.groups = 1 + sw.env.IntN(5)
	for g := range sw.res.groups {
		key := node.ChannelKey{Type: proto.ChannelGroup, ID: fmt.Sprintf("g%d", g)}
		var uids []string
		for _, u := range sw.users {
			if sw.env.IntN(3) == 0 || len(uids) < 2 {
				uids = append(uids, u.uid)
				u.targets = append(u.targets, target{addr: key.ID, typ: proto.ChannelGroup, key: key})
			}
		}
		sw.mustAPI(node.ChannelUpsert{Channel: key, Subscribers: uids})
		sw.members[key] = uids
		sw.channels = append(sw.channels, key)
	}
	for range n {
		a, b := sw.users[sw.env.IntN(n)], sw.users[sw.env.IntN(n)]
		key := node.ChannelKey{Type: proto.ChannelPerson, ID: node.PersonChannelID(a.uid, b.uid)}
		if a == b || sw.members[key] != nil {
			continue
		}
		a.targets = append(a.targets, target{addr: b.uid, typ: proto.ChannelPerson, key: key})
		b.targets = append(b.targets, target{addr: a.uid, typ: proto.ChannelPerson, key: key})
		sw.members[key] = []string{a.uid, b.uid}
		sw.channels = append(sw.channels, key)
	}
}

// connectUsers connects everyone and starts their traffic.
func (sw *seedWorld) connectUsers() {
	for _, u := range sw.users {
		u.start(time.Duration(100+sw.env.IntN(900)) * time.Millisecond)
	}
}

func (u *seedUser) start(interval time.Duration) {
	c := u.c
	c.OnConnack = func(p *proto.Connack) {
		if p.ReasonCode != proto.ReasonSuccess {
			u.sw.fail("%s refused with %d", u.uid, p.ReasonCode)
			return
		}
		u.lastSeq = map[node.ChannelKey]uint64{}
		u.onlineAt = u.sw.s.Now()
		u.retryUnknown()
	}
	c.OnSendack = u.onSendack
	c.OnRecv = u.onRecv
	c.OnDisconnect = func(d *proto.Disconnect) { u.sw.fail("%s disconnected: %d %q", u.uid, d.ReasonCode, d.Reason) }
	c.OnClosed = func(error) {
		now := u.sw.s.Now()
		for _, cmn := range u.order {
			if s := u.sends[cmn]; s.inflight {
				s.inflight = false
				u.sw.rec.Unknown(s.op, now)
			}
		}
		u.offline(now)
		c.Loop().After(time.Duration(20+u.rng.IntN(500))*time.Millisecond, "connect")
	}
	c.OnTimer = func(tag any) {
		switch tag {
		case "connect":
			if !c.Open {
				u.connect()
			}
		case "send":
			if !u.sw.quiet {
				if c.Ready && len(u.targets) > 0 && c.Inflight() < 20 {
					u.send(u.targets[u.rng.IntN(len(u.targets))], false)
				}
				c.Loop().After(time.Duration(u.rng.Int64N(int64(interval)*2)), "send")
			}
		case "drop":
			if !u.sw.quiet {
				if c.Open {
					u.sw.res.disconnects++
					if u.rng.IntN(2) == 0 {
						u.sw.counter.Fire(chaos.ClientClose)
						c.Close()
					} else {
						u.sw.counter.Fire(chaos.ClientCut)
						u.sw.s.Cut(c.Conn())
					}
				}
				c.Loop().After(time.Duration(1+u.rng.IntN(10))*time.Second, "drop")
			}
		}
	}
	u.connect()
	c.Loop().After(interval, "send")
	c.Loop().After(time.Duration(1+u.rng.IntN(10))*time.Second, "drop")
}

func (u *seedUser) connect() {
	u.sw.conns++
	u.conn = fmt.Sprintf("%s#%d", u.uid, u.sw.conns)
	u.onlineAt = -1
	u.c.Connect()
}

// offline records, for the liveness check, that the connection was an
// online subscriber of the user's channels until now.
func (u *seedUser) offline(until time.Duration) {
	if u.onlineAt < 0 {
		return
	}
	for _, t := range u.targets {
		u.sw.rec.Subscribed(u.conn, t.key.String(), u.onlineAt, until)
	}
	u.onlineAt = -1
}

func (u *seedUser) send(t target, final bool) {
	u.n++
	cmn := fmt.Sprintf("%s-%d", u.uid, u.n)
	rec := &sendRec{t: t, cmn: cmn, payload: fmt.Sprintf("%s says %d 你好", u.uid, u.n), final: final}
	u.sends[cmn] = rec
	u.order = append(u.order, cmn)
	u.attempt(rec)
}

// attempt sends rec (again), recording the attempt in the history.
func (u *seedUser) attempt(rec *sendRec) {
	rec.inflight = true
	rec.attempts++
	client := fmt.Sprintf("%s/%s/%d", u.uid, rec.cmn, rec.attempts)
	rec.op = u.sw.rec.CallSend(u.sw.s.Now(), client, linearize.Send{Channel: rec.t.key.String(), FromUID: u.uid, ClientMsgNo: rec.cmn, Conn: u.conn})
	u.c.Send(rec.t.addr, rec.t.typ, rec.cmn, []byte(rec.payload), 0, rec.cmn)
}

// retryUnknown resends, with the same client_msg_no, every send whose
// outcome was lost with a connection.
func (u *seedUser) retryUnknown() {
	for _, cmn := range u.order {
		rec := u.sends[cmn]
		if !rec.acked && !rec.inflight {
			u.attempt(rec)
		}
	}
}

func (u *seedUser) onSendack(s *wkclient.Sent, a *proto.Sendack) {
	rec := u.sends[s.Tag.(string)]
	rec.inflight = false
	now := u.sw.s.Now()
	if a.ReasonCode != proto.ReasonSuccess {
		u.sw.rec.Failed(rec.op, now, fmt.Sprintf("reason %d", a.ReasonCode))
		u.sw.fail("%s send %s refused with %d", u.uid, rec.cmn, a.ReasonCode)
		return
	}
	u.sw.rec.SendOK(rec.op, now, a.MessageID, a.MessageSeq)
	if rec.acked && (rec.seq != a.MessageSeq || rec.id != a.MessageID) {
		u.sw.fail("%s retry of %s acked as seq %d id %d, first as seq %d id %d", u.uid, rec.cmn, a.MessageSeq, a.MessageID, rec.seq, rec.id)
	}
	rec.acked, rec.seq, rec.id = true, a.MessageSeq, a.MessageID
}

func (u *seedUser) onRecv(r *proto.Recv, plain []byte) {
	key := node.ChannelKey{Type: r.ChannelType, ID: r.ChannelID}
	if r.ChannelType == proto.ChannelPerson {
		key.ID = node.PersonChannelID(u.uid, r.ChannelID)
	}
	if r.Flags&proto.FlagDup == 0 {
		if last := u.lastSeq[key]; r.MessageSeq <= last {
			u.sw.fail("%s got %s seq %d after seq %d on one connection", u.uid, key, r.MessageSeq, last)
		}
		u.lastSeq[key] = r.MessageSeq
	}
	m := u.got[key]
	if m == nil {
		m = map[uint64]int64{}
		u.got[key] = m
	}
	if id, seen := m[r.MessageSeq]; seen && id != r.MessageID {
		u.sw.fail("%s got two message ids at %s seq %d", u.uid, key, r.MessageSeq)
	}
	m[r.MessageSeq] = r.MessageID
	u.sw.rec.Received(u.sw.s.Now(), u.conn, key.String(), linearize.Message{Seq: r.MessageSeq, MessageID: r.MessageID, FromUID: r.FromUID, ClientMsgNo: r.ClientMsgNo})
	_ = plain
}

// quietPhase heals everything, lets everyone reconnect and settle, sends a
// last message to every channel, and checks.
func (sw *seedWorld) quietPhase() {
	sw.quiet = true
	if !sw.p.Up() {
		sw.p.Start()
	}
	deadline := sw.s.Now() + nodeLiveness
	settled := func() bool {
		for _, u := range sw.users {
			if !u.c.Ready || u.c.Inflight() > 0 {
				return false
			}
			for _, rec := range u.sends {
				if !rec.acked {
					return false
				}
			}
		}
		return true
	}
	sw.runUntil(deadline, settled, "every user connected with every send acknowledged")
	for _, u := range sw.users {
		if u.c.Ready {
			for _, t := range u.targets {
				u.send(t, true)
			}
		}
	}
	sw.runUntil(deadline, func() bool { return settled() && sw.finalsDelivered() }, "every last message acknowledged and delivered")
	sw.checkStore()
}

func (sw *seedWorld) runUntil(deadline time.Duration, cond func() bool, what string) {
	for !cond() {
		if sw.s.Now() >= deadline {
			sw.fail("quiet phase: not settled by %v: %s", deadline, what)
			return
		}
		if err := sw.s.RunFor(10 * time.Millisecond); err != nil {
			sw.fail("quiet phase: %v", err)
			return
		}
	}
}

// finalsDelivered: every user received every last message of its channels.
func (sw *seedWorld) finalsDelivered() bool {
	for _, u := range sw.users {
		for _, cmn := range u.order {
			rec := u.sends[cmn]
			if !rec.final || !rec.acked {
				continue
			}
			for _, uid := range sw.members[rec.t.key] {
				if uid == u.uid {
					continue
				}
				if _, ok := sw.userByUID(uid).got[rec.t.key][rec.seq]; !ok {
					return false
				}
			}
		}
	}
	return true
}

func (sw *seedWorld) userByUID(uid string) *seedUser {
	var i int
	fmt.Sscanf(uid, "u%d", &i)
	return sw.users[i]
}

// checkStore reads every channel back and checks it against what clients
// saw.
func (sw *seedWorld) checkStore() {
	stored := map[node.ChannelKey][]*node.Message{}
	for _, ch := range sw.channels {
		login := sw.members[ch][0]
		msgs := syncAll(sw.nodeWorld, login, ch)
		stored[ch] = msgs
		seen := map[string]uint64{}
		for i, m := range msgs {
			if m.Seq != uint64(i+1) {
				sw.fail("%s: seq %d at position %d (gap or reuse)", ch, m.Seq, i+1)
				break
			}
			k := m.FromUID + "\x00" + m.ClientMsgNo
			if prev, dup := seen[k]; dup {
				sw.fail("%s: client_msg_no %s of %s stored twice (seqs %d and %d)", ch, m.ClientMsgNo, m.FromUID, prev, m.Seq)
			}
			seen[k] = m.Seq
		}
	}
	for _, u := range sw.users {
		for _, cmn := range u.order {
			rec := u.sends[cmn]
			msgs := stored[rec.t.key]
			if !rec.acked {
				continue
			}
			if rec.seq == 0 || rec.seq > uint64(len(msgs)) {
				sw.fail("%s: acknowledged %s (seq %d id %d) missing: the log ends at %d", rec.t.key, cmn, rec.seq, rec.id, len(msgs))
				continue
			}
			if m := msgs[rec.seq-1]; m.MessageID != rec.id || m.ClientMsgNo != cmn || string(m.Payload) != rec.payload {
				sw.fail("%s: acknowledged %s as seq %d id %d; stored there: %s from %s id %d", rec.t.key, cmn, rec.seq, rec.id, m.ClientMsgNo, m.FromUID, m.MessageID)
			}
		}
		for ch, got := range u.got {
			msgs := stored[ch]
			for _, seq := range slices.Sorted(maps.Keys(got)) {
				if seq == 0 || seq > uint64(len(msgs)) || msgs[seq-1].MessageID != got[seq] {
					sw.fail("%s received %s seq %d id %d, not what is stored", u.uid, ch, seq, got[seq])
				}
			}
		}
	}
	for _, u := range sw.users {
		for _, cmn := range u.order {
			if !u.sends[cmn].acked {
				sw.res.unknown++
			}
		}
	}
	sw.checkHistory(stored)
}

// readLog reads a channel's whole log through the node, a page at a time,
// and hands it to then — never, if the node crashes meanwhile.
func (sw *seedWorld) readLog(ch node.ChannelKey, then func([]*node.Message)) {
	n, login := sw.node(), sw.members[ch][0]
	var all []*node.Message
	var page func()
	page = func() {
		n.Submit(node.MessageSync{LoginUID: login, Channel: ch, PullMode: node.PullUp, Start: uint64(len(all) + 1), Limit: 1000}, func(r any, err error) {
			if err != nil {
				sw.fail("reading %s: %v", ch, err)
				return
			}
			reply := r.(node.SyncReply)
			all = append(all, reply.Messages...)
			if reply.More == 1 {
				page()
				return
			}
			then(all)
		})
	}
	page()
}

// readAfterRestart reads every channel right after a restart, so that the
// checker verifies then (not only at the end) that acknowledged sends
// survived.
func (sw *seedWorld) readAfterRestart() {
	at := sw.s.Now()
	logs := make([]linearize.ChannelLog, len(sw.channels))
	left := len(sw.channels)
	for i, ch := range sw.channels {
		sw.readLog(ch, func(msgs []*node.Message) {
			logs[i] = linearize.ChannelLog{Channel: ch.String(), Messages: historyMessages(msgs)}
			if left--; left == 0 {
				sw.rec.Restarted(at, "n1", logs...)
			}
		})
	}
}

func historyMessages(msgs []*node.Message) []linearize.Message {
	out := make([]linearize.Message, len(msgs))
	for i, m := range msgs {
		out[i] = linearize.Message{Seq: m.Seq, MessageID: m.MessageID, FromUID: m.FromUID, ClientMsgNo: m.ClientMsgNo}
	}
	return out
}

// startReader issues history syncs and max-seq reads over the API at random
// times, each recorded in the history.
func (sw *seedWorld) startReader() {
	r := rand.New(sw.s.Rand("reader"))
	var next func()
	next = func() {
		if !sw.quiet {
			sw.s.After(time.Duration(20+r.IntN(300))*time.Millisecond, "read", next)
		}
		if !sw.p.Up() {
			return
		}
		ch := sw.channels[r.IntN(len(sw.channels))]
		sw.reads++
		client, n, now := fmt.Sprintf("reader/%d", sw.reads), sw.node(), sw.s.Now()
		if r.IntN(3) == 0 {
			op := sw.rec.CallMaxSeq(now, client, ch.String())
			n.Submit(node.MaxSeq{Channel: ch}, func(v any, err error) {
				if err != nil {
					sw.rec.Failed(op, sw.s.Now(), err.Error())
					return
				}
				sw.rec.MaxSeqOK(op, sw.s.Now(), v.(uint64))
			})
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
		mode := linearize.Up
		if req.PullMode == node.PullDown {
			mode = linearize.Down
		}
		op := sw.rec.CallSync(now, client, linearize.SyncRequest{Channel: ch.String(), Start: req.Start, End: req.End, Limit: uint64(req.Limit), Mode: mode})
		n.Submit(req, func(v any, err error) {
			if err != nil {
				sw.rec.Failed(op, sw.s.Now(), err.Error())
				return
			}
			sw.rec.SyncOK(op, sw.s.Now(), historyMessages(v.(node.SyncReply).Messages))
		})
	}
	sw.s.After(100*time.Millisecond, "read", next)
}

// checkHistory hands the final logs to the recorder and runs the
// linearizability check and the invariants.
func (sw *seedWorld) checkHistory(stored map[node.ChannelKey][]*node.Message) {
	for _, u := range sw.users {
		u.offline(linearize.Forever)
	}
	for _, ch := range sw.channels {
		sw.rec.FinalLog(ch.String(), historyMessages(stored[ch]))
	}
	dir := filepath.Join(os.TempDir(), "jindou-porcupine")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		sw.fail("visualization directory: %v", err)
	}
	rep := sw.rec.Check(linearize.Options{Timeout: 30 * time.Second, DeliveryBound: deliveryBound, VisualizeDir: dir, Name: fmt.Sprintf("seed-%d", sw.s.Seed())})
	sw.res.report = rep
	if !rep.OK {
		sw.fail("history check: %s", rep)
	}
}
