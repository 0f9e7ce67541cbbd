package node

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/node/state"
	"github.com/jindou-im/jindou/runtime"
)

// gateway is a loop that owns client connections: their handshake and
// session, their frames, their presence, and the RECVs pushed to them.
type gateway struct {
	n    *Node
	name string
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
	// connLog rate-limits the connection events' log lines (logging.go).
	connLog connLog
	// presence numbers the cluster presence updates (presence_gateway.go).
	presence gatewayPresence
	// pendingBytes are the bytes of every connection's RECVs kept for
	// resend; overCap the connections a delivery took past their own cap,
	// cut once it is done (budget.go).
	pendingBytes int
	overCap      []*client
	budgetArmed  bool
	// draining: the node is stopping; new SENDs are refused (stop.go).
	draining bool
}

// gatewayStats are a gateway loop's counters.
type gatewayStats struct {
	Accepted, InMsgs, OutMsgs, InBytes, OutBytes int64
	// Resends counts RECVs written again with DUP; Kicks connections
	// disconnected by a newer login, a token change or a device quit.
	Resends, Kicks int64
	// PeerDropped counts messages from other nodes that did not decode or
	// were not for a gateway.
	PeerDropped int64
	// LateDeliveries counts deliveries not pushed to a connection that had
	// already got that channel's seq or a later one (a cluster's
	// duplicated or reordered deliveries).
	LateDeliveries int64
	// SendRetries counts SENDs sent again to their slot after going
	// unanswered for forwardRetry (a cluster's lost requests).
	SendRetries int64
	// UnrecordedIgnored counts answers to a SEND sent again that were
	// neither a success nor decided in the log, and so not final
	// (inflightSend).
	UnrecordedIgnored int64
	// SendLatency counts SEND-to-SENDACK latencies per bucket of
	// SendLatencyBuckets (the last bucket is +Inf); SendLatencySum is
	// their sum in seconds.
	SendLatency    [len(SendLatencyBuckets) + 1]int64
	SendLatencySum float64
	// SlowCutsConnCap and SlowCutsBudget count slow readers cut by the
	// resend budget: past their own cap, and as the slowest when the
	// loop's share was spent (budget.go).
	SlowCutsConnCap, SlowCutsBudget int64
	// DrainRefused counts SENDs refused because the node was stopping.
	DrainRefused int64
	// The delivery counters (stats_delivery.go).
	deliveryStats
}

type clientState uint8

const (
	stateConnecting clientState = iota // waiting for CONNECT
	stateAuth                          // CONNECT received, token and ban being checked
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
	sess    *proto.Session // nil on JSON-RPC connections, which are not encrypted
	connect *proto.Connect // kept while the token is checked
	rpc     *rpcConn       // set if the connection speaks JSON-RPC

	openedAt    time.Duration
	lastInbound time.Duration
	timer       runtime.Timer // the connect deadline, then the idle timer

	// pending are the RECVs not yet acknowledged, by message id;
	// pendingBytes the size of their frames, and overCap whether the
	// connection waits in gateway.overCap.
	pending      map[int64]*pendingRecv
	pendingBytes int
	overCap      bool
	// ackedAt is when the connection last acknowledged a RECV, or began to
	// wait for one (budget.go).
	ackedAt time.Duration
	// leaving: the node said DISCONNECT (a graceful stop's farewell); the
	// connection is read until the client closes, and pushed nothing.
	leaving bool
	// sending are the SENDs handed to a slot and not yet answered, keyed
	// by client_seq: each one's arrival time (for the latency histogram
	// and the SendTimeout deadline), and in a cluster the request, sent
	// again if it goes unanswered (see gateway_send.go).
	sending     map[uint32]inflightSend
	resendArmed bool
	// sendTimerArmed: a sendTimeoutTag is armed while SENDs wait.
	sendTimerArmed bool
	// asking is the token or ban read a connection in stateAuth waits
	// for; in a cluster it is sent again every forwardRetry (it may be
	// lost on its way to a leader that just went).
	asking *slotRead
	// seen is, per channel, the highest seq pushed to the connection (a
	// cluster's only; see seenBefore).
	seen map[state.ChannelKey]uint64

	inMsgs, outMsgs, inBytes, outBytes int64
}

// pendingRecv is a RECV awaiting RECVACK.
type pendingRecv struct {
	frame  []byte
	seq    uint64
	sentAt time.Duration
	sends  int
	// firstAt is when it was first written (RecvAckLatency).
	firstAt time.Duration
}

func newGateway(n *Node, name string, rnd runtime.Rand) *gateway {
	return &gateway{n: n, name: name, rnd: rnd, clients: map[uint64]*client{}, online: map[string][]*client{}}
}

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
			g.feed(c, e.Data)
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
		case sendTimeoutTag:
			g.onSendTimeout(t.conn)
		case authRetryTag:
			g.onAuthRetry(t.conn)
		case presenceBeatTag:
			g.onPresenceBeat()
		case budgetTag:
			g.onBudgetTimer()
		}
	case runtime.Posted:
		g.onMsg(e.Msg)
	case runtime.PeerMsg:
		g.onPeer(e)
	}
}

// onPeer takes a message from another node: an answer to this loop, a
// read of its connections, or a delivery or kick for the whole node, which
// this loop (the node's first gateway) passes on to every gateway loop.
func (g *gateway) onPeer(e runtime.PeerMsg) {
	m, err := decodePeer(e.Data)
	if err != nil {
		g.stats.PeerDropped++
		return
	}
	switch r := m.(type) {
	case gatewayRead:
		if !g.n.isMember(r.Reply.Node) {
			g.stats.PeerDropped++
			return
		}
		g.onMsg(m)
	case sendDone, readDone:
		if !g.n.ownAnswer(m.(answer)) {
			g.stats.PeerDropped++ // to an earlier incarnation of this node
			return
		}
		g.onMsg(m)
	case deliverMsg, kickMsg:
		g.n.broadcastGateways(m)
	case presenceAsk:
		g.onPresenceAsk(r)
	default:
		g.stats.PeerDropped++
	}
}

func (g *gateway) onMsg(m runtime.Msg) {
	switch m := m.(type) {
	case sendDone:
		g.onSendDone(m)
	case readDone:
		g.onAuthDone(m)
	case deliverMsg:
		g.onDeliver(m)
	case kickMsg:
		g.onKick(m)
	case connCloseMsg:
		g.onConnClose(m)
	case drainMsg:
		g.onDrain()
	case farewellMsg:
		g.onFarewell()
	case gatewayRead:
		g.n.answer(m.Reply, readDone{Reply: m.Reply, Result: g.query(m.Query)})
	case presenceAsk:
		g.onPresenceAsk(m)
	default:
		panic(fmt.Sprintf("node: gateway got %T", m))
	}
}

func (g *gateway) onOpen(conn runtime.Conn) {
	now := g.now()
	c := &client{conn: conn, dec: proto.NewDecoder(g.n.cfg.MaxFrameSize), openedAt: now, lastInbound: now}
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
	g.releasePending(c)
	g.sendsEnded(len(c.sending))
	if c.state == stateReady {
		g.broadcastPresence(c, false)
	}
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
	if c.rpc != nil {
		g.processRPC(c)
		return
	}
	for c.state == stateConnecting || c.state == stateReady {
		p, err := g.nextPacket(c)
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
		g.onConnect(c, p.(*proto.Connect)) // nextPacket decodes nothing else
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
		g.protocolError(c, errUnexpected{p.Type()})
	}
}

// write encodes p for c and queues it; the runtime flushes at the end of
// the turn. Each Write is one frame (one WebSocket message).
func (g *gateway) write(c *client, p proto.Packet) []byte {
	if c.state == stateClosed {
		return nil
	}
	if c.rpc != nil {
		return g.writeRaw(c, g.encodeRPC(c, p))
	}
	v := c.version
	if v == 0 {
		v = proto.MinVersion
	}
	frame, err := proto.AppendFrame(nil, p, v)
	if err != nil {
		panic(fmt.Sprintf("node: encode %s: %v", p.Type(), err))
	}
	return g.writeRaw(c, frame)
}

// writeRaw queues an encoded message for c.
func (g *gateway) writeRaw(c *client, frame []byte) []byte {
	if c.state == stateClosed {
		return nil
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
// (the reason code of protocolReason) and closes that connection only.
func (g *gateway) protocolError(c *client, err error) {
	g.logConn(c, "connection closed: protocol error", err.Error())
	g.write(c, &proto.Disconnect{ReasonCode: protocolReason(err), Reason: "protocol error: " + err.Error()})
	g.close(c)
}

func (g *gateway) onDeadline(id uint64) {
	c := g.clients[id]
	if c == nil {
		return
	}
	if c.state == stateAuth {
		// CONNECT came, but its token or ban check went unanswered (a
		// cluster without a leader in reach): retryable.
		g.logConn(c, "login refused: its checks went unanswered", durationText(g.n.cfg.ConnectTimeout))
		g.refuse(c, proto.ReasonSystemError)
		return
	}
	if c.state != stateReady {
		g.logConn(c, "connection closed: no CONNECT within the connect timeout", durationText(g.n.cfg.ConnectTimeout))
		g.write(c, &proto.Disconnect{ReasonCode: proto.ReasonUnknown, Reason: "no CONNECT within the connect timeout"})
		g.close(c)
		return
	}
	idle := g.n.cfg.IdleTimeout
	if since := g.now() - c.lastInbound; since < idle {
		c.timer = g.loop.After(idle-since, deadlineTag{id})
		return
	}
	g.logConn(c, "connection closed: idle timeout", durationText(idle))
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
	if state.ValidUID(p.UID) != nil {
		g.refuse(c, proto.ReasonAuthFail)
		return
	}
	var sess *proto.Session
	if c.rpc == nil { // JSON-RPC connections are not encrypted
		if p.ClientKey == "" {
			g.refuse(c, proto.ReasonClientKeyIsEmpty)
			return
		}
		var err error
		if sess, err = proto.NewServerSession(p.ClientKey, g.rnd); err != nil {
			g.refuse(c, proto.ReasonClientKeyIsEmpty)
			return
		}
	}
	c.sess, c.uid, c.device, c.flag, c.connect = sess, p.UID, p.DeviceID, p.DeviceFlag, p
	c.state = stateAuth
	if !g.n.cfg.TokenAuth {
		// As WuKongIM: without token auth every login is a slave one,
		// which kicks nobody (two browser tabs stay connected).
		c.level = proto.DeviceSlave
		g.checkBan(c)
		return
	}
	g.checkToken(c, p)
}

// checkToken asks the user's slot to check the token of (uid, device
// flag); the connection waits in stateAuth (its connect deadline still
// runs) for the readDone that names it.
func (g *gateway) checkToken(c *client, p *proto.Connect) {
	slotID := state.SlotOfUser(p.UID, g.n.cfg.Slots)
	q := queryToken{UID: p.UID, Flag: uint8(p.DeviceFlag), Token: p.Token}
	g.askAuth(c, slotID, q)
}

func (g *gateway) onAuthDone(m readDone) {
	c := g.clients[m.Reply.Conn]
	if c == nil || c.state != stateAuth {
		return
	}
	c.asking = nil
	if ban, ok := m.Result.(banResult); ok {
		g.onBanChecked(c, m.Err, bool(ban))
		return
	}
	auth, _ := m.Result.(authResult)
	switch {
	case m.Err != nil:
		g.refuse(c, authErrReason(m.Err))
		return
	case !auth.OK:
		g.refuse(c, proto.ReasonAuthFail)
		return
	}
	c.level = auth.Level
	g.checkBan(c)
}

// refuse answers CONNECT with a CONNACK carrying the reason, then closes.
func (g *gateway) refuse(c *client, reason proto.ReasonCode) {
	g.logConn(c, "connection refused", reasonText(reason))
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
	if reason == proto.ReasonSuccess && c.sess != nil {
		ack.ServerKey, ack.Salt = c.sess.ServerKey(), c.sess.Salt()
	}
	return ack
}

func (g *gateway) accept(c *client) {
	c.state = stateReady
	c.connect = nil
	c.timer.Stop()
	c.timer = g.loop.After(g.n.cfg.IdleTimeout, deadlineTag{c.conn.ID()})
	g.online[c.uid] = append(g.online[c.uid], c)
	g.broadcastPresence(c, true)
	g.n.broadcastCluster(loginKick(c, g.ref(c)))
	g.write(c, g.connack(c, proto.ReasonSuccess))
}

// ref names c across loops.
func (g *gateway) ref(c *client) connAddr {
	return connAddr{Node: g.n.env.Node(), Gateway: g.name, Conn: c.conn.ID()}
}

func (g *gateway) onKick(m kickMsg) {
	for _, c := range slices.Clone(g.online[m.UID]) {
		if (m.Flag >= 0 && int(c.flag) != m.Flag) || g.ref(c) == m.Except {
			continue
		}
		switch kickAction(m, c) {
		case kickClose:
			g.stats.Kicks++
			g.logConn(c, "connection closed by a relogin", m.Reason)
			g.close(c)
		case kickDisconnect:
			g.stats.Kicks++
			g.logConn(c, "connection kicked", m.Reason)
			g.write(c, &proto.Disconnect{ReasonCode: proto.ReasonConnectKick, Reason: m.Reason})
			g.close(c)
		}
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
			g.sendsEnded(len(c.sending))
			c.sending = nil
		}
		if !c.leaving { // a farewell told it already (stop.go)
			g.write(c, disconnectShutdown)
		}
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
