package sim_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/jindou-im/jindou/chaos"
	"github.com/jindou-im/jindou/linearize"
	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/runtime"
	"github.com/jindou-im/jindou/sim"
	"github.com/jindou-im/jindou/sim/world"
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
		runAndReportSeed(t, t, seed, counter, nil)
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
		runAndReportSeed(t, t, seed, counter, nil)
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

// seedReporter is where a seed's failures go: the test, or a test of the
// harness itself.
type seedReporter interface {
	Errorf(format string, args ...any)
}

// runAndReportSeed runs one seed and reports its failures to rep: every
// failure, the fault plan and the command that replays the seed. A seed
// that fails, even by a panic, never stops the seeds after it. watch, if
// set, sees the world before it runs.
func runAndReportSeed(t *testing.T, rep seedReporter, seed uint64, counter *chaos.Counter, watch func(*seedWorld)) *nodeSeedResult {
	r := runNodeSeed(t, seed, counter, watch)
	fmt.Printf("seed=%d trace=%016x users=%d groups=%d ops=%d sends=%d acked=%d unknown=%d crashes=%d restarts=%d disconnects=%d faults=%d events=%d virtual=%v wall=%v check=%v\n",
		seed, r.trace, r.users, r.groups, r.report.Ops, r.sends, r.acked, r.unknown, r.stats.Crashes, r.stats.Restarts,
		r.disconnects, len(r.plan), r.stats.Events, r.virtual, r.wall.Round(time.Millisecond), r.report.CheckDuration.Round(time.Millisecond))
	if len(r.failures) == 0 {
		return r
	}
	for i, f := range r.failures {
		if i == 20 {
			rep.Errorf("seed %d: ... %d more", seed, len(r.failures)-20)
			break
		}
		rep.Errorf("seed %d: %s", seed, f)
	}
	rep.Errorf("seed %d fault plan:\n%s", seed, r.plan)
	if r.report.Visualization != "" {
		rep.Errorf("seed %d: porcupine visualization: %s", seed, r.report.Visualization)
	}
	rep.Errorf("replay: go test ./sim -run '^TestSeeds$' -seed=%d -v", seed)
	return r
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
	*world.World
	n     *world.Node
	env   *rand.Rand
	users []*seedUser
	// members of each stored channel.
	members  map[node.ChannelKey][]string
	channels []node.ChannelKey
	quiet    bool
	res      *nodeSeedResult
	counter  *chaos.Counter
	// conns numbers client connections for the history.
	conns int
	reads int
}

func (sw *seedWorld) fail(format string, args ...any) {
	sw.res.failures = append(sw.res.failures, fmt.Sprintf("at %v: ", sw.Now())+fmt.Sprintf(format, args...))
}

// seedUser is one user with one connection at a time.
type seedUser struct {
	sw  *seedWorld
	uid string
	c   *world.Client
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

// runNodeSeed runs one seed. A panic during the run (a node's invariant
// assertion, a bug of the harness) is recovered as the seed's failure.
func runNodeSeed(t *testing.T, seed uint64, counter *chaos.Counter, watch func(*seedWorld)) (res *nodeSeedResult) {
	start := time.Now()
	w := world.New(t, seed)
	env := rand.New(w.Sim.Rand("world"))
	sw := &seedWorld{World: w, env: env, members: map[node.ChannelKey][]string{}, res: &nodeSeedResult{}, counter: counter}
	defer func() {
		if p := recover(); p != nil {
			sw.fail("panic: %v\n%s", p, panicStack())
			res = sw.finish(start)
		}
	}()
	cfg := node.Config{
		Slots: 1 + env.IntN(64), SlotLoops: 1 + env.IntN(3), GatewayLoops: 1 + env.IntN(3),
		ResendInterval: time.Duration(1+env.IntN(5)) * time.Second, IdleTimeout: time.Minute,
		// Its own stream: a new draw must not shift the rest of the world.
		CompactLogAfter: []int{4, 16, 64, 10000}[rand.New(w.Sim.Rand("compaction")).IntN(4)],
	}
	sw.n = w.AddNode(1, cfg)
	sw.makeUsers(12 + env.IntN(30))
	// The faults start once the channels exist.
	sw.res.plan = chaos.DrawSingleNode(rand.New(w.Sim.Rand("faults")), chaos.PlanConfig{Node: 1, Duration: nodeSafety - 2*time.Second, MaxCrash: 3})
	sw.res.plan.Schedule(w.Sim, chaos.Hooks{AfterRestart: func(runtime.NodeID) { sw.readAfterRestart() }}, counter)
	sw.connectUsers()
	sw.startReader()
	if watch != nil {
		watch(sw)
	}
	if err := w.Sim.Run(nodeSafety); err != nil {
		sw.fail("safety phase: %v", err)
		return sw.finish(start)
	}
	sw.quietPhase()
	counter.AddStats(w.Sim.Stats())
	return sw.finish(start)
}

// panicStack is the stack of a recovered panic (the panicking frames are
// below the deferred call), cut to its first 40 lines.
func panicStack() string {
	lines := strings.Split(string(debug.Stack()), "\n")
	if len(lines) > 40 {
		lines = append(lines[:40], "\t...")
	}
	return strings.Join(lines, "\n")
}

func (sw *seedWorld) finish(start time.Time) *nodeSeedResult {
	sw.res.trace, sw.res.stats, sw.res.virtual, sw.res.wall = sw.Sim.TraceHash(), sw.Sim.Stats(), sw.Now(), time.Since(start)
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
		u := &seedUser{sw: sw, uid: uid, rng: rand.New(sw.Sim.Rand("user/" + uid)), sends: map[string]*sendRec{},
			got: map[node.ChannelKey]map[uint64]int64{}}
		u.c = sw.NewClient(world.ClientSpec{UID: uid, Device: "d", Flag: proto.DeviceFlag(sw.env.IntN(3)), Version: uint8(2 + sw.env.IntN(5))})
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
		if _, err := sw.n.Call(node.ChannelUpsert{Channel: key, Subscribers: uids}); err != nil {
			sw.fail("creating %s: %v", key, err)
		}
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
		u.onlineAt = u.sw.Now()
		u.retryUnknown()
	}
	c.OnSendack = u.onSendack
	c.OnRecv = u.onRecv
	c.OnDisconnect = func(d *proto.Disconnect) { u.sw.fail("%s disconnected: %d %q", u.uid, d.ReasonCode, d.Reason) }
	c.OnClosed = func(error) {
		now := u.sw.Now()
		for _, cmn := range u.order {
			if s := u.sends[cmn]; s.inflight {
				s.inflight = false
				u.sw.History.Unknown(s.op, now)
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
						u.sw.Cut(c)
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
		u.sw.History.Subscribed(u.conn, t.key.String(), u.onlineAt, until)
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
	rec.op = u.sw.History.CallSend(u.sw.Now(), client, linearize.Send{Channel: rec.t.key.String(), FromUID: u.uid, ClientMsgNo: rec.cmn, Conn: u.conn})
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

func (u *seedUser) onSendack(s *world.Sent, a *proto.Sendack) {
	rec := u.sends[s.Tag.(string)]
	rec.inflight = false
	now := u.sw.Now()
	if a.ReasonCode != proto.ReasonSuccess {
		u.sw.History.Failed(rec.op, now, fmt.Sprintf("reason %d", a.ReasonCode))
		u.sw.fail("%s send %s refused with %d", u.uid, rec.cmn, a.ReasonCode)
		return
	}
	u.sw.History.SendOK(rec.op, now, a.MessageID, a.MessageSeq)
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
	u.sw.History.Received(u.sw.Now(), u.conn, key.String(), linearize.Message{Seq: r.MessageSeq, MessageID: r.MessageID, FromUID: r.FromUID, ClientMsgNo: r.ClientMsgNo})
	_ = plain
}
