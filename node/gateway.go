package node

import (
	"crypto/subtle"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/runtime"
)

// gateway is a loop that owns client connections: their handshake and
// session, their frames, their presence, and the RECVs pushed to them.
type gateway struct {
	n    *Node
	idx  int
	loop runtime.Loop
	rnd  runtime.Rand
	// clients are the open connections, by connection id.
	clients map[uint64]*client
	// online are the ready clients of each uid, in the order they
	// connected.
	online map[string][]*client
	// stats are the loop's counters since start (closed connections'
	// traffic included).
	stats gatewayStats
}

// gatewayStats are a gateway loop's counters.
type gatewayStats struct {
	Accepted, InMsgs, OutMsgs, InBytes, OutBytes int64
	// SendLatency counts SEND-to-SENDACK latencies per bucket of
	// SendLatencyBuckets (the last bucket is +Inf); SendLatencySum is
	// their sum in seconds.
	SendLatency    [len(SendLatencyBuckets) + 1]int64
	SendLatencySum float64
}

type clientState uint8

const (
	stateConnecting clientState = iota // waiting for CONNECT
	stateAuth                          // CONNECT received, token being checked
	stateReady                         // CONNACK sent
	stateClosed
)

// client is one connection's state.
type client struct {
	conn    runtime.Conn
	dec     *proto.Decoder
	state   clientState
	version uint8
	uid     string
	device  string
	flag    proto.DeviceFlag
	level   proto.DeviceLevel
	sess    *proto.Session
	connect *proto.Connect // kept while the token is checked

	openedAt    time.Duration
	lastInbound time.Duration
	timer       runtime.Timer // the connect deadline, then the idle timer

	// pending are the RECVs not yet acknowledged, by message id.
	pending map[int64]*pendingRecv
	// sending are the client_seqs of SENDs handed to a slot and not yet
	// answered.
	sending     map[uint32]bool
	resendArmed bool

	inMsgs, outMsgs, inBytes, outBytes int64
}

// pendingRecv is a RECV awaiting RECVACK.
type pendingRecv struct {
	frame  []byte
	seq    uint64
	sentAt time.Duration
	sends  int
}

// maxPendingRecvs bounds the RECVs tracked per connection; past it the
// oldest are forgotten (the client catches up through sync).
const maxPendingRecvs = 4096

// connRef names a connection across loops; the zero value names none.
type connRef struct {
	gw int
	id uint64
	ok bool
}

// Messages a gateway handles.

type sendDone struct {
	conn      uint64
	clientSeq uint32
	res       sendResult
	// sentAt is when the SEND arrived, for the latency histogram.
	sentAt time.Duration
}

type authDone struct {
	conn  uint64
	ok    bool
	level proto.DeviceLevel
}

// deliverMsg pushes a new message to the online recipients.
type deliverMsg struct {
	msg        *Message
	recipients []string
	except     connRef
}

// kickMsg disconnects a uid's connections of a device flag (all flags if
// flag < 0) whose device id differs from keepDevice, except one.
type kickMsg struct {
	uid        string
	flag       int
	keepDevice string
	except     connRef
	reason     string
}

// gatewayQuery runs fn on the gateway loop.
type gatewayQuery struct{ fn func(g *gateway) }

func (sendDone) Kind() string     { return "send-done" }
func (authDone) Kind() string     { return "auth-done" }
func (deliverMsg) Kind() string   { return "deliver" }
func (kickMsg) Kind() string      { return "kick" }
func (gatewayQuery) Kind() string { return "gateway-query" }

func (m deliverMsg) Digest() uint64 { return uint64(m.msg.MessageID) ^ m.msg.Seq }

type deadlineTag struct{ conn uint64 }
type resendTag struct{ conn uint64 }

func (g *gateway) now() time.Duration { return g.n.env.Clock().Now() }

func (g *gateway) Handle(ev runtime.Event) {
	switch e := ev.(type) {
	case runtime.ConnOpened:
		g.onOpen(e.Conn)
	case runtime.ConnData:
		if c := g.clients[e.Conn.ID()]; c != nil {
			c.inBytes += int64(len(e.Data))
			g.stats.InBytes += int64(len(e.Data))
			c.lastInbound = g.now()
			c.dec.Feed(e.Data)
			g.process(c)
		}
	case runtime.ConnClosed:
		g.onClosed(e.Conn.ID())
	case runtime.TimerFired:
		switch t := e.Tag.(type) {
		case deadlineTag:
			g.onDeadline(t.conn)
		case resendTag:
			g.onResend(t.conn)
		}
	case runtime.Posted:
		g.onMsg(e.Msg)
	}
}

func (g *gateway) onMsg(m runtime.Msg) {
	switch m := m.(type) {
	case sendDone:
		g.onSendDone(m)
	case authDone:
		g.onAuthDone(m)
	case deliverMsg:
		g.onDeliver(m)
	case kickMsg:
		g.onKick(m)
	case gatewayQuery:
		m.fn(g)
	default:
		panic(fmt.Sprintf("node: gateway got %T", m))
	}
}

func (g *gateway) onOpen(conn runtime.Conn) {
	now := g.now()
	c := &client{conn: conn, dec: proto.NewDecoder(g.n.cfg.MaxFrameSize), openedAt: now, lastInbound: now,
		pending: map[int64]*pendingRecv{}, sending: map[uint32]bool{}}
	c.timer = g.loop.After(g.n.cfg.ConnectTimeout, deadlineTag{conn.ID()})
	g.clients[conn.ID()] = c
	g.stats.Accepted++
}

func (g *gateway) onClosed(id uint64) {
	c := g.clients[id]
	if c == nil {
		return
	}
	delete(g.clients, id)
	c.state = stateClosed
	c.timer.Stop()
	if list := g.online[c.uid]; list != nil {
		list = slices.DeleteFunc(list, func(o *client) bool { return o == c })
		if len(list) == 0 {
			delete(g.online, c.uid)
		} else {
			g.online[c.uid] = list
		}
	}
}

// process decodes and handles the frames buffered for c, pausing while its
// token is being checked.
func (g *gateway) process(c *client) {
	for c.state == stateConnecting || c.state == stateReady {
		p, err := c.dec.Next()
		if err != nil {
			g.protocolError(c, err)
			return
		}
		if p == nil {
			return
		}
		c.inMsgs++
		g.stats.InMsgs++
		g.onPacket(c, p)
	}
}

func (g *gateway) onPacket(c *client, p proto.Packet) {
	if c.state == stateConnecting {
		if cp, ok := p.(*proto.Connect); ok {
			g.onConnect(c, cp)
			return
		}
		g.protocolError(c, fmt.Errorf("%s before CONNECT", p.Type()))
		return
	}
	switch p := p.(type) {
	case *proto.Ping:
		g.write(c, &proto.Pong{})
	case *proto.Send:
		g.onSend(c, p)
	case *proto.Recvack:
		g.onRecvack(c, p)
	case *proto.Disconnect:
		g.close(c)
	case *proto.Sub:
		g.write(c, &proto.Suback{SubNo: p.SubNo, ChannelID: p.ChannelID, ChannelType: p.ChannelType, Action: p.Action, ReasonCode: proto.ReasonNotSupportChannelType})
	default:
		g.protocolError(c, fmt.Errorf("unexpected %s from a client", p.Type()))
	}
}

// write encodes p for c and queues it; the runtime flushes at the end of
// the turn. Each Write is one frame (one WebSocket message).
func (g *gateway) write(c *client, p proto.Packet) []byte {
	if c.state == stateClosed {
		return nil
	}
	v := c.version
	if v == 0 {
		v = proto.MinVersion
	}
	frame, err := proto.AppendFrame(nil, p, v)
	if err != nil {
		panic(fmt.Sprintf("node: encode %s: %v", p.Type(), err))
	}
	c.conn.Write(frame)
	c.outMsgs++
	c.outBytes += int64(len(frame))
	g.stats.OutMsgs++
	g.stats.OutBytes += int64(len(frame))
	return frame
}

func (g *gateway) close(c *client) {
	if c.state == stateClosed {
		return
	}
	c.conn.Close()
	g.onClosed(c.conn.ID())
}

// protocolError answers malformed or out-of-place input with DISCONNECT
// and closes that connection only.
func (g *gateway) protocolError(c *client, err error) {
	g.write(c, &proto.Disconnect{ReasonCode: proto.ReasonUnknown, Reason: "protocol error: " + err.Error()})
	g.close(c)
}

func (g *gateway) onDeadline(id uint64) {
	c := g.clients[id]
	if c == nil {
		return
	}
	if c.state != stateReady {
		g.write(c, &proto.Disconnect{ReasonCode: proto.ReasonUnknown, Reason: "no CONNECT within the connect timeout"})
		g.close(c)
		return
	}
	idle := g.n.cfg.IdleTimeout
	if since := g.now() - c.lastInbound; since < idle {
		c.timer = g.loop.After(idle-since, deadlineTag{id})
		return
	}
	g.write(c, &proto.Disconnect{ReasonCode: proto.ReasonUnknown, Reason: "idle timeout"})
	g.close(c)
}

// The handshake.

func (g *gateway) onConnect(c *client, p *proto.Connect) {
	v, ok := proto.NegotiateVersion(p.Version)
	if !ok {
		g.refuse(c, proto.ReasonProtocolUpgradeRequired)
		return
	}
	c.version = v
	c.dec.SetVersion(v)
	if ValidUID(p.UID) != nil {
		g.refuse(c, proto.ReasonAuthFail)
		return
	}
	if p.ClientKey == "" {
		g.refuse(c, proto.ReasonClientKeyIsEmpty)
		return
	}
	sess, err := proto.NewServerSession(p.ClientKey, g.rnd)
	if err != nil {
		g.refuse(c, proto.ReasonClientKeyIsEmpty)
		return
	}
	c.sess, c.uid, c.device, c.flag, c.connect = sess, p.UID, p.DeviceID, p.DeviceFlag, p
	if !g.n.cfg.TokenAuth {
		g.accept(c, proto.DeviceMaster)
		return
	}
	c.state = stateAuth
	g.checkToken(c, p)
}

// checkToken asks the user's slot for the token of (uid, device flag).
func (g *gateway) checkToken(c *client, p *proto.Connect) {
	slotID := slotOfUser(p.UID, g.n.cfg.Slots)
	id, uid, flag, token, gw := c.conn.ID(), p.UID, uint8(p.DeviceFlag), p.Token, g.loop
	g.n.slotLoopOf(slotID).loop.Post(slotQuery{slot: slotID, fn: func(r pebbleReader, _ *slotLoop) {
		var rec tokenRecord
		v, ok := getValue(r, tokenKey(slotID, uid, flag))
		if ok {
			decode(v, &rec)
		}
		match := subtle.ConstantTimeCompare([]byte(rec.Token), []byte(token)) == 1
		gw.Post(authDone{conn: id, ok: ok && token != "" && match, level: proto.DeviceLevel(rec.Level)})
	}})
}

func (g *gateway) onAuthDone(m authDone) {
	c := g.clients[m.conn]
	if c == nil || c.state != stateAuth {
		return
	}
	if !m.ok {
		g.refuse(c, proto.ReasonAuthFail)
		return
	}
	c.state = stateConnecting // accept moves it to ready
	g.accept(c, m.level)
	g.process(c)
}

// refuse answers CONNECT with a CONNACK carrying the reason, then closes.
func (g *gateway) refuse(c *client, reason proto.ReasonCode) {
	g.write(c, g.connack(c, reason))
	g.close(c)
}

func (g *gateway) connack(c *client, reason proto.ReasonCode) *proto.Connack {
	ack := &proto.Connack{ReasonCode: reason, NodeID: uint64(g.n.env.Node())}
	if c.version > 3 {
		ack.HasServerVersion, ack.ServerVersion = true, c.version
	}
	if c.connect != nil {
		ack.TimeDiff = g.n.env.Clock().Wall().UnixMilli() - c.connect.ClientTimestamp
	}
	if reason == proto.ReasonSuccess {
		ack.ServerKey, ack.Salt = c.sess.ServerKey(), c.sess.Salt()
	}
	return ack
}

func (g *gateway) accept(c *client, level proto.DeviceLevel) {
	c.state, c.level = stateReady, level
	c.connect = nil
	c.timer.Stop()
	c.timer = g.loop.After(g.n.cfg.IdleTimeout, deadlineTag{c.conn.ID()})
	g.online[c.uid] = append(g.online[c.uid], c)
	if level == proto.DeviceMaster {
		g.n.broadcastGateways(kickMsg{uid: c.uid, flag: int(c.flag), keepDevice: c.device, except: g.ref(c), reason: "login in other device"})
	}
	g.write(c, g.connack(c, proto.ReasonSuccess))
}

func (g *gateway) ref(c *client) connRef { return connRef{gw: g.idx, id: c.conn.ID(), ok: true} }

func (g *gateway) onKick(m kickMsg) {
	for _, c := range slices.Clone(g.online[m.uid]) {
		if (m.flag >= 0 && int(c.flag) != m.flag) || g.ref(c) == m.except || (m.keepDevice != "" && c.device == m.keepDevice) {
			continue
		}
		g.write(c, &proto.Disconnect{ReasonCode: proto.ReasonConnectKick, Reason: m.reason})
		g.close(c)
	}
}

// Sending.

// sendRequest is a message on its way to its channel's slot.
type sendRequest struct {
	ch   ChannelKey
	cmd  sendCmd
	atMs int64
	// system bypasses permission checks (API sends by system accounts).
	system bool
}

// sendResult is the outcome of a send.
type sendResult struct {
	Reason    proto.ReasonCode
	MessageID int64
	Seq       uint64
	Duplicate bool
	Err       error
}

func (g *gateway) onSend(c *client, p *proto.Send) {
	ack := func(reason proto.ReasonCode) {
		g.write(c, &proto.Sendack{ClientSeq: p.ClientSeq, ReasonCode: reason})
	}
	var plain []byte
	if p.Setting&proto.SettingNoEncrypt != 0 && g.n.cfg.AllowPlaintext {
		plain = slices.Clone(p.Payload)
	} else {
		var err error
		if plain, err = c.sess.OpenSend(nil, p); err != nil {
			ack(proto.ReasonPayloadDecodeError)
			return
		}
	}
	if !supportedChannelType(p.ChannelType) {
		ack(proto.ReasonNotSupportChannelType)
		return
	}
	ch, err := resolveChannel(c.uid, p.ChannelID, p.ChannelType)
	if err != nil {
		ack(proto.ReasonChannelIDError)
		return
	}
	req := sendRequest{ch: ch, atMs: g.n.env.Clock().Wall().UnixMilli(), cmd: sendCmd{
		From: c.uid, ClientMsgNo: p.ClientMsgNo, Header: headerOf(p.Flags),
		Setting: p.Setting &^ proto.SettingNoEncrypt, Expire: p.Expire, Topic: p.Topic, Payload: plain,
	}}
	id, clientSeq, gw, at := c.conn.ID(), p.ClientSeq, g.loop, g.now()
	c.sending[clientSeq] = true
	g.n.send(req, g.ref(c), func(r sendResult) { gw.Post(sendDone{conn: id, clientSeq: clientSeq, res: r, sentAt: at}) })
}

func (g *gateway) onSendDone(m sendDone) {
	g.observeSendLatency(g.now() - m.sentAt)
	c := g.clients[m.conn]
	if c == nil || c.state != stateReady {
		return
	}
	delete(c.sending, m.clientSeq)
	g.write(c, &proto.Sendack{MessageID: m.res.MessageID, ClientSeq: m.clientSeq, MessageSeq: m.res.Seq, ReasonCode: m.res.Reason})
}

// Delivery.

func (g *gateway) onDeliver(m deliverMsg) {
	for _, uid := range m.recipients {
		for _, c := range g.online[uid] {
			if c.state != stateReady || g.ref(c) == m.except {
				continue
			}
			g.push(c, m.msg)
		}
	}
}

// push writes a RECV of msg to c, encrypted for c, and tracks it until
// RECVACK.
func (g *gateway) push(c *client, msg *Message) {
	r := &proto.Recv{
		Flags: msg.Header.flags(), Setting: msg.Setting, FromUID: msg.FromUID,
		ChannelID: msg.Channel.PeerOf(c.uid), ChannelType: msg.Channel.Type, Expire: msg.Expire,
		ClientMsgNo: msg.ClientMsgNo, MessageID: msg.MessageID, MessageSeq: msg.Seq,
		Timestamp: msg.Timestamp, Topic: msg.Topic,
	}
	c.sess.SealRecv(r, msg.Payload)
	frame := g.write(c, r)
	if len(c.pending) >= maxPendingRecvs {
		g.forgetOldest(c)
	}
	c.pending[msg.MessageID] = &pendingRecv{frame: frame, seq: msg.Seq, sentAt: g.now(), sends: 1}
	if !c.resendArmed {
		c.resendArmed = true
		g.loop.After(g.n.cfg.ResendInterval, resendTag{c.conn.ID()})
	}
}

func (g *gateway) forgetOldest(c *client) {
	var oldest int64
	first := true
	for id := range c.pending {
		if first || id < oldest {
			oldest, first = id, false
		}
	}
	delete(c.pending, oldest)
}

func (g *gateway) onRecvack(c *client, p *proto.Recvack) {
	if _, ok := c.pending[p.MessageID]; ok {
		delete(c.pending, p.MessageID)
		return
	}
	// The JS SDK writes message ids through a double and may ack a
	// neighbouring id: take the nearest pending id with that seq.
	best, found := int64(0), false
	for id, pr := range c.pending {
		if pr.seq != p.MessageSeq || absDiff(id, p.MessageID) >= 1<<12 {
			continue
		}
		if !found || absDiff(id, p.MessageID) < absDiff(best, p.MessageID) ||
			(absDiff(id, p.MessageID) == absDiff(best, p.MessageID) && id < best) {
			best, found = id, true
		}
	}
	if found {
		delete(c.pending, best)
	}
}

func absDiff(a, b int64) int64 {
	if a > b {
		return a - b
	}
	return b - a
}

// onResend resends every RECV unacknowledged for a resend interval, up to
// the maximum count, in message id order.
func (g *gateway) onResend(id uint64) {
	c := g.clients[id]
	if c == nil {
		return
	}
	c.resendArmed = false
	now := g.now()
	for _, mid := range slices.Sorted(maps.Keys(c.pending)) {
		pr := c.pending[mid]
		if now-pr.sentAt < g.n.cfg.ResendInterval {
			continue
		}
		if pr.sends > g.n.cfg.ResendMax {
			delete(c.pending, mid)
			continue
		}
		pr.frame[0] |= byte(proto.FlagDup)
		c.conn.Write(pr.frame)
		c.outMsgs++
		pr.sentAt, pr.sends = now, pr.sends+1
	}
	if len(c.pending) > 0 {
		c.resendArmed = true
		g.loop.After(g.n.cfg.ResendInterval, resendTag{id})
	}
}

var disconnectShutdown = &proto.Disconnect{ReasonCode: proto.ReasonUnknown, Reason: "server shutting down"}

// shutdown answers every SEND still in flight with SystemError (a retry
// with the same client_msg_no is deduplicated if it did land), says
// DISCONNECT and closes every connection.
func (g *gateway) shutdown() {
	for _, c := range g.sortedClients() {
		if c.state == stateReady {
			for _, seq := range slices.Sorted(maps.Keys(c.sending)) {
				g.write(c, &proto.Sendack{ClientSeq: seq, ReasonCode: proto.ReasonSystemError})
			}
		}
		g.write(c, disconnectShutdown)
		g.close(c)
	}
}

func (g *gateway) sortedClients() []*client {
	ids := slices.Sorted(maps.Keys(g.clients))
	out := make([]*client, len(ids))
	for i, id := range ids {
		out[i] = g.clients[id]
	}
	return out
}

// SendLatencyBuckets are the upper bounds, in seconds, of the send latency
// histogram (SEND received to SENDACK written).
var SendLatencyBuckets = [...]float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}

func (g *gateway) observeSendLatency(d time.Duration) {
	sec := d.Seconds()
	i := 0
	for i < len(SendLatencyBuckets) && sec > SendLatencyBuckets[i] {
		i++
	}
	g.stats.SendLatency[i]++
	g.stats.SendLatencySum += sec
}
