package sim_test

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jindou-im/jindou/chaos"
	"github.com/jindou-im/jindou/linearize"
	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/sim/world"
)

// The users of a node seed: their channels, connections, sends, retries
// and RECVs.

// makeUsers creates users, groups and person chats, and subscribes.
func (sw *seedWorld) makeUsers(n int) {
	for i := range n {
		uid := fmt.Sprintf("u%d", i)
		u := &seedUser{sw: sw, uid: uid, rng: rand.New(sw.Sim.Rand("user/" + uid)), rrng: rand.New(sw.Sim.Rand("rules/" + uid)), sends: map[string]*sendRec{},
			got: map[node.ChannelKey]map[uint64]int64{}}
		u.c = sw.NewClient(world.ClientSpec{UID: uid, Device: "d", Flag: proto.DeviceFlag(sw.env.IntN(3)), Version: uint8(2 + sw.env.IntN(5)), Pick: sw.clientNode})
		sw.users = append(sw.users, u)
	}
	sw.res.groups = 1 + sw.env.IntN(5)
	// Some groups are communities or community topics, which behave as
	// groups do (their own stream: the draws above stay as they were).
	kinds := rand.New(sw.Sim.Rand("group-kinds"))
	for g := range sw.res.groups {
		typ := []proto.ChannelType{proto.ChannelGroup, proto.ChannelGroup, proto.ChannelCommunity, proto.ChannelCommunityTopic}[kinds.IntN(4)]
		key := node.ChannelKey{Type: typ, ID: fmt.Sprintf("g%d", g)}
		var uids []string
		for _, u := range sw.users {
			if sw.env.IntN(3) == 0 || len(uids) < 2 {
				uids = append(uids, u.uid)
				u.targets = append(u.targets, target{addr: key.ID, typ: typ, key: key})
			}
		}
		if _, err := sw.setupCall(node.ChannelUpsert{Channel: key, Subscribers: uids}); err != nil {
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
		if p.ReasonCode == proto.ReasonSystemError && len(u.sw.nodes) > 1 {
			return // the login's checks found no leader in reach: it reconnects
		}
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
	c.OnDisconnect = func(d *proto.Disconnect) {
		if d.Reason != "server shutting down" { // a graceful stop (nodeseeds_stop_test.go)
			u.sw.fail("%s disconnected: %d %q", u.uid, d.ReasonCode, d.Reason)
		}
	}
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
		if r, ok := tag.(retryTag); ok {
			if rec := u.sends[r.cmn]; c.Ready && !rec.inflight && !rec.acked {
				u.attempt(rec)
			} // else: the next CONNACK retries it
			return
		}
		switch tag {
		case "connect":
			if !c.Open {
				u.connect()
			}
		case "send":
			if !u.sw.quiet {
				if c.Ready && len(u.targets) > 0 && c.Inflight() < 20 {
					if len(u.ruleTargets) > 0 && u.rrng.IntN(3) == 0 {
						u.send(u.ruleTargets[u.rrng.IntN(len(u.ruleTargets))], false)
					} else {
						u.send(u.targets[u.rng.IntN(len(u.targets))], false)
					}
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

// retryTag is the timer of a send's retry after an unknown outcome.
type retryTag struct{ cmn string }

func (u *seedUser) connect() {
	u.sw.conns++
	u.conn = fmt.Sprintf("%s#%d", u.uid, u.sw.conns)
	u.sw.History.ConnUser(u.conn, u.uid)
	u.onlineAt = -1
	u.c.Connect()
}

// offline records, for the liveness check, that the connection was an
// online subscriber of the user's channels until now.
// In a cluster only the quiet phase counts: while partitioned, a node
// cannot deliver to its connections what the others store. And a slot
// leader learns that a connection is online on another node within
// node.PresenceBound of its login or of the links' healing: a message
// acknowledged before may miss it (the client syncs).
func (u *seedUser) offline(until time.Duration) {
	if u.onlineAt < 0 {
		return
	}
	from := u.onlineAt
	if u.sw.cluster() {
		from = max(from, u.sw.quietAt)
		if from < linearize.Forever-node.PresenceBound {
			from += node.PresenceBound
		}
	}
	if from < until {
		for _, t := range u.targets {
			u.sw.History.Subscribed(u.conn, t.key.String(), from, until)
		}
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
	rec.op = u.sw.History.CallSend(u.sw.Now(), client, linearize.Send{Channel: rec.t.key.String(), FromUID: u.uid, ClientMsgNo: rec.cmn, Conn: u.conn, Payload: rec.payload})
	u.c.Send(rec.t.addr, rec.t.typ, rec.cmn, []byte(rec.payload), 0, rec.cmn)
}

// retryUnknown resends, with the same client_msg_no, every send whose
// outcome was lost with a connection.
func (u *seedUser) retryUnknown() {
	for _, cmn := range u.order {
		rec := u.sends[cmn]
		if !rec.acked && !rec.inflight && !rec.refused {
			u.attempt(rec)
		}
	}
}

func (u *seedUser) onSendack(s *world.Sent, a *proto.Sendack) {
	rec := u.sends[s.Tag.(string)]
	rec.inflight = false
	now := u.sw.Now()
	if name, ok := refusal(a.ReasonCode); ok && rec.t.modelled {
		// The rules of the channel refused it: checked against the model.
		u.sw.History.Failed(rec.op, now, name)
		rec.refused = true
		u.sw.res.coverage.Add(chaos.Refusals, 1)
		return
	}
	if a.ReasonCode == proto.ReasonNodeNotMatch {
		// Its node was stopping: not stored (the history check holds it
		// to that), and not sent again.
		u.sw.History.Failed(rec.op, now, linearize.Stopping)
		rec.refused = true
		u.sw.res.coverage.Add(chaos.DrainRefusals, 1)
		return
	}
	if a.ReasonCode == proto.ReasonSystemError && (u.sw.cluster() || u.sw.diskFullLately()) {
		// The slot's leader was out of reach (SendTimeout), or its disk
		// was full (refused, or stuck until SendTimeout): the outcome is
		// unknown; the retry has the same client_msg_no. Out of a
		// disk-full episode a node of one never answers so.
		u.sw.History.Unknown(rec.op, now)
		u.c.Loop().After(retryDelay, retryTag{rec.cmn})
		return
	}
	if a.ReasonCode != proto.ReasonSuccess {
		u.sw.History.Failed(rec.op, now, fmt.Sprintf("reason %d", a.ReasonCode))
		u.sw.fail("%s send %s refused with %d", u.uid, rec.cmn, a.ReasonCode)
		return
	}
	u.sw.History.SendOK(rec.op, now, a.MessageID, a.MessageSeq)
	u.sw.noteAck()
	if rec.acked && (rec.seq != a.MessageSeq || rec.id != a.MessageID) {
		u.sw.fail("%s retry of %s acked as seq %d id %d, first as seq %d id %d", u.uid, rec.cmn, a.MessageSeq, a.MessageID, rec.seq, rec.id)
	}
	rec.acked, rec.seq, rec.id = true, a.MessageSeq, a.MessageID
	u.sw.tailSeen[rec.t.key] = max(u.sw.tailSeen[rec.t.key], a.MessageSeq)
}

func (u *seedUser) onRecv(r *proto.Recv, plain []byte) {
	if r.ChannelType != proto.ChannelPerson && r.ChannelType != proto.ChannelGroup {
		u.sw.res.coverage.Add(chaos.OtherChannelTypes, 1)
	}
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
	u.sw.History.Received(u.sw.Now(), u.conn, key.String(), recvMessage(r, plain))
}

// recvMessage is a RECV as the history records it, with the payload the
// client decrypted (checked against what was sent and stored).
func recvMessage(r *proto.Recv, plain []byte) linearize.Message {
	return linearize.Message{Seq: r.MessageSeq, MessageID: r.MessageID, FromUID: r.FromUID, ClientMsgNo: r.ClientMsgNo, Payload: string(plain)}
}
