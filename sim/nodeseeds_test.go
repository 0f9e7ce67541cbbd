package sim_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"testing/cryptotest"
	"time"

	"github.com/jindou-im/jindou/internal/wkclient"
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
	for seed := first; seed < first+uint64(n); seed++ {
		cryptotest.SetGlobalRandom(t, seed)
		r := runNodeSeed(t, seed)
		fmt.Printf("seed=%d trace=%016x users=%d groups=%d sends=%d acked=%d unknown=%d crashes=%d disconnects=%d events=%d virtual=%v wall=%v\n",
			seed, r.trace, r.users, r.groups, r.sends, r.acked, r.unknown, r.stats.Crashes, r.disconnects,
			r.stats.Events, r.virtual, r.wall.Round(time.Millisecond))
		if len(r.failures) > 0 {
			for i, f := range r.failures {
				if i == 20 {
					t.Errorf("seed %d: ... %d more", seed, len(r.failures)-20)
					break
				}
				t.Errorf("seed %d: %s", seed, f)
			}
			t.Errorf("replay: go test ./sim -run '^TestSeeds$' -seed=%d -v", seed)
		}
	}
}

type nodeSeedResult struct {
	trace                              uint64
	users, groups                      int
	sends, acked, unknown, disconnects int
	stats                              sim.Stats
	virtual, wall                      time.Duration
	failures                           []string
}

const (
	nodeSafety   = 10 * time.Second
	nodeLiveness = 15 * time.Second
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
}

func runNodeSeed(t *testing.T, seed uint64) *nodeSeedResult { return runNodeSeedWatch(t, seed, nil) }

func runNodeSeedWatch(t *testing.T, seed uint64, watch func(*seedWorld)) *nodeSeedResult {
	start := time.Now()
	res := &nodeSeedResult{}
	s := sim.New(sim.Config{Seed: seed})
	env := rand.New(s.Rand("world"))
	cfg := node.Config{
		Slots: 1 + env.IntN(64), SlotLoops: 1 + env.IntN(3), GatewayLoops: 1 + env.IntN(3),
		ResendInterval: time.Duration(1+env.IntN(5)) * time.Second, IdleTimeout: time.Minute,
	}
	w := &nodeWorld{t: t, s: s, cfg: cfg}
	w.p = s.AddProcess(1, func() runtime.Process { return node.New(w.cfg) })
	w.p.SetDisk(sim.DiskConfig{LatencyMin: 100 * time.Microsecond, LatencyMax: time.Duration(200+env.IntN(5000)) * time.Microsecond, ErrorPct: env.IntN(3)})
	w.p.SetDrift(int64(env.IntN(2001) - 1000))
	w.p.SkewWall(time.Duration(env.IntN(10_000)-5_000) * time.Millisecond)
	lat := time.Duration(100+env.IntN(3000)) * time.Microsecond
	s.SetConnConfig(sim.ConnConfig{LatencyMin: lat / 2, LatencyMax: 2 * lat, Fragment: env.IntN(2) == 0})
	w.p.Start()
	sw := &seedWorld{nodeWorld: w, env: env, members: map[node.ChannelKey][]string{}, res: res}

	sw.makeUsers(12 + env.IntN(30))
	sw.planCrashes()
	if watch != nil {
		watch(sw)
	}
	if err := s.Run(nodeSafety); err != nil {
		sw.fail("safety phase: %v", err)
		return sw.finish(start)
	}
	sw.quietPhase()
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

// makeUsers creates users, groups and person chats, subscribes, and
// connects everyone.
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
		u.retryUnknown()
	}
	c.OnSendack = u.onSendack
	c.OnRecv = u.onRecv
	c.OnDisconnect = func(d *proto.Disconnect) { u.sw.fail("%s disconnected: %d %q", u.uid, d.ReasonCode, d.Reason) }
	c.OnClosed = func(error) {
		for _, s := range u.sends {
			s.inflight = false
		}
		c.Loop().After(time.Duration(20+u.rng.IntN(500))*time.Millisecond, "connect")
	}
	c.OnTimer = func(tag any) {
		switch tag {
		case "connect":
			if !c.Open {
				c.Connect()
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
						c.Close()
					} else {
						u.sw.s.Cut(c.Conn())
					}
				}
				c.Loop().After(time.Duration(1+u.rng.IntN(10))*time.Second, "drop")
			}
		}
	}
	c.Connect()
	c.Loop().After(interval, "send")
	c.Loop().After(time.Duration(1+u.rng.IntN(10))*time.Second, "drop")
}

func (u *seedUser) send(t target, final bool) {
	u.n++
	cmn := fmt.Sprintf("%s-%d", u.uid, u.n)
	rec := &sendRec{t: t, cmn: cmn, payload: fmt.Sprintf("%s says %d 你好", u.uid, u.n), inflight: true, final: final}
	u.sends[cmn] = rec
	u.order = append(u.order, cmn)
	u.c.Send(t.addr, t.typ, cmn, []byte(rec.payload), 0, cmn)
}

// retryUnknown resends, with the same client_msg_no, every send whose
// outcome was lost with a connection.
func (u *seedUser) retryUnknown() {
	for _, cmn := range u.order {
		rec := u.sends[cmn]
		if !rec.acked && !rec.inflight {
			rec.inflight = true
			u.c.Send(rec.t.addr, rec.t.typ, cmn, []byte(rec.payload), 0, cmn)
		}
	}
}

func (u *seedUser) onSendack(s *wkclient.Sent, a *proto.Sendack) {
	rec := u.sends[s.Tag.(string)]
	rec.inflight = false
	if a.ReasonCode != proto.ReasonSuccess {
		u.sw.fail("%s send %s refused with %d", u.uid, rec.cmn, a.ReasonCode)
		return
	}
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
	_ = plain
}

// planCrashes schedules node crashes with restarts during the safety phase.
func (sw *seedWorld) planCrashes() {
	for range sw.env.IntN(4) {
		at := time.Duration(sw.env.Int64N(int64(nodeSafety - 2*time.Second)))
		down := time.Duration(10+sw.env.IntN(2000)) * time.Millisecond
		keep := []int{0, 100, 1 + sw.env.IntN(99)}[sw.env.IntN(3)]
		sw.s.At(at, "crash", func() {
			if !sw.p.Up() {
				return
			}
			sw.p.Crash(keep)
			sw.s.After(down, "restart", func() {
				if !sw.p.Up() {
					sw.p.Start()
				}
			})
		})
	}
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
			for _, seq := range slices.Sorted(mapsKeys(got)) {
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
}

func mapsKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
