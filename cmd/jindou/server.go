package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	jhttp "github.com/jindou-im/jindou/http"
	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/runtime"
	"github.com/jindou-im/jindou/runtime/reactor"
)

// storeDir is the Pebble store's directory inside the data dir.
const storeDir = "store"

// server is one node's components, started in dependency order and stopped
// in reverse (DESIGN.md, section 6).
type server struct {
	cfg  Config
	log  *slog.Logger
	host *reactor.Host
	node *node.Node
	http *jhttp.Server
	// up are the components started so far, in start order.
	up []component
	// started: the slots caught up after start; the core's leadership
	// changes are logged at info from then on (leaderlog.go).
	started atomic.Bool
	// extOnce chooses the external addresses once (extTCP, extWS): the
	// peer card and the HTTP layer hand out the same.
	extOnce       sync.Once
	extTCP, extWS string
	// cl is the cluster as the process knows it (cluster_watch.go).
	cl *clusterState
}

// component is a started component and how to stop it.
type component struct {
	name string
	stop func()
}

func newServer(cfg Config, log *slog.Logger) *server {
	return &server{cfg: cfg, log: log, cl: newClusterState(cfg.NodeID)}
}

// start brings every component up. If one fails, those already started
// are stopped again and the error names the failing one.
func (s *server) start() error {
	begin := time.Now()
	limit, from := applyMemoryLimit(s.cfg.MemoryLimit, os.Getenv, s.log)
	s.log.Info("memory limit", "component", "memory", "bytes", limit, "from", from)
	steps := []struct {
		name  string
		start func() (stop func(), err error)
	}{
		// The reactor binds the client listeners, then node.Start opens
		// the store and recovers every slot, then the loops run.
		{"core", s.startCore},
		{"http", s.startHTTP},
	}
	for _, st := range steps {
		t0 := time.Now()
		stop, err := st.start()
		if err != nil {
			s.log.Error("component failed to start", "component", st.name, "err", err)
			s.stop("start-up failed")
			return err
		}
		s.up = append(s.up, component{name: st.name, stop: stop})
		s.log.Info("component started", "component", st.name, "took", time.Since(t0))
	}
	s.http.SetComponentsReady(true, "")
	s.log.Info("serving", "node_id", s.cfg.NodeID, "tcp", addrString(s.host.TCPAddr()), "ws", addrString(s.host.WSAddr()),
		"http", addrString(s.http.Addr()), "data_dir", s.cfg.DataDir, "token_auth", s.cfg.TokenAuth, "took", time.Since(begin))
	s.logPages()
	s.logSlots()
	return nil
}

func (s *server) startCore() (func(), error) {
	cc, err := s.cfg.cluster()
	if err != nil {
		return nil, err
	}
	s.host = reactor.New(reactor.Config{
		NodeID:      runtime.NodeID(s.cfg.NodeID),
		TCPAddr:     s.cfg.TCPAddr,
		WSAddr:      s.cfg.WSAddr,
		DataDir:     s.cfg.DataDir,
		Reactors:    s.cfg.Reactors,
		DiskReserve: diskReserve(s.cfg.DiskReserveMB),
		// A WebSocket client that sends no upgrade is closed as soon as a
		// TCP one that sends no CONNECT.
		WSHandshakeTimeout:    s.cfg.ConnectTimeout,
		MaxPendingOutput:      s.cfg.MaxPendingOutput,
		MaxTotalPendingOutput: s.cfg.MaxTotalPendingOutput,
		StopTimeout:           s.cfg.StopTimeout,
		Logger:                slog.New(confLog{inner: leaderLog{inner: s.log.Handler(), on: &s.started}, sum: &s.cl.confs}).With("component", "core"),
		PeerAddr:              cc.peerListen(),
		Peers:                 cc.peers(s.cfg.NodeID),
		// At the fd cap a TCP client's CONNECT is refused with a reason.
		RefuseTCP: refusal{NodeID: uint64(s.cfg.NodeID), Reason: proto.ReasonSystemError,
			Text: "server out of file descriptors: retry later, please"}.answer,
	})
	s.host.SetPeerAuth(cc.token, s.card)
	plan, err := s.planCluster(cc) // cluster_join.go
	if err != nil {
		return nil, err
	}
	for id, addr := range plan.peers {
		s.host.SetPeer(id, addr)
	}
	s.cl.setConfigured(plan.peers, advertisedPeer(cc.addr))
	s.node = node.New(node.Config{
		Members:        plan.members,
		Join:           plan.join,
		PeerAddr:       plan.peerAddr,
		JoinCluster:    plan.joinCluster,
		ClusterName:    plan.clusterName,
		ReplicaCount:   cc.replicas,
		Slots:          s.cfg.Slots,
		SlotLoops:      s.cfg.SlotLoops,
		GatewayLoops:   s.cfg.GatewayLoops,
		TokenAuth:      s.cfg.TokenAuth,
		AllowPlaintext: s.cfg.AllowPlaintext,
		ConnectTimeout: s.cfg.ConnectTimeout,
		IdleTimeout:    s.cfg.IdleTimeout,
		ResendInterval: s.cfg.ResendInterval,
		ResendMax:      s.cfg.ResendMax,
		DedupeWindow:   s.cfg.DedupeWindow,
		MaxFrameSize:   s.cfg.MaxFrameSize,
		DataDir:        storeDir,

		MaxPayloadBytes:   s.cfg.MaxPayloadSize,
		ResendBufferBytes: s.cfg.ResendBufferSize,
		ResendBudgetBytes: s.cfg.ResendBudget,
		CacheSize:         int64(s.cfg.StoreCacheSize),
		MemTableSize:      uint64(s.cfg.StoreMemtableSize),

		Webhook: s.cfg.webhook(),
	})
	if err := s.host.Start(timedNode{Node: s.node, log: s.log}); err != nil {
		return nil, s.coreError(err)
	}
	if !cc.clustered() {
		return s.host.Stop, nil
	}
	stopWatch := s.startClusterWatch() // cluster_watch.go
	return func() { stopWatch(); s.handOff(); s.host.Stop() }, nil
}

// diskReserve is disk_reserve_mb for the host: 0 is none.
func diskReserve(mb int) int64 {
	if mb == 0 {
		return -1
	}
	return int64(mb) << 20
}

// coreError names the listener that failed, with its address, or else the
// core.
func (s *server) coreError(err error) error {
	msg := err.Error()
	var le *reactor.ListenError
	switch {
	case errors.As(err, &le):
		return listenError(le.Listener, le.Addr, le.Err)
	case errors.Is(err, syscall.EAGAIN) && strings.Contains(msg, "open store"):
		return fmt.Errorf("core: %w (the store in %s is locked: is another jindou running on this data dir?)", err, s.cfg.DataDir)
	}
	return fmt.Errorf("core: %w", err)
}

func (s *server) startHTTP() (func(), error) {
	tcp, ws := s.externalAddrs()
	var cluster func() []jhttp.ClusterNode
	if cc, _ := s.cfg.cluster(); cc.clustered() {
		cluster = s.clusterNodes(cc)
	}
	s.http = jhttp.New(jhttp.Config{
		Addr:           s.cfg.HTTPAddr,
		ManagerToken:   s.cfg.ManagerToken,
		TCPAddr:        tcp,
		WSAddr:         ws,
		WSSAddr:        s.cfg.ExternalWSSAddr,
		ServerID:       s.cfg.NodeID,
		Version:        version,
		RequestTimeout: s.cfg.RequestTimeout,
		QueueStats:     queueStats(s.host),
		ConnStats:      connStats(s.host),
		Limits:         s.cfg.httpLimits(),
		Logger:         s.log, // the server adds component=http
		Ops: jhttp.Ops{Demo: s.cfg.Demo, TokenAuth: s.cfg.TokenAuth, MetricsPublic: s.cfg.MetricsPublic,
			Pprof: s.cfg.Pprof, CORSOrigins: s.cfg.corsOrigins()},
		Cluster: cluster,
	}, s.node)
	s.http.Registry().MustRegister(buildInfoGauge(), clusterCollector{s})
	s.http.SetComponentsReady(false, "starting")
	if err := s.http.Start(); err != nil {
		return nil, listenError("http", s.cfg.HTTPAddr, err)
	}
	return func() {
		s.http.SetComponentsReady(false, "stopping")
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.StopTimeout)
		defer cancel()
		if err := s.http.Stop(ctx); err != nil {
			s.log.Warn("http did not stop cleanly", "err", err)
		}
	}, nil
}

// queueStats reads the host's queue figures for /varz and /metrics, which
// see them through jhttp's own types: the HTTP layer does not import the
// runtime.
func queueStats(h *reactor.Host) func() jhttp.QueueStats {
	return func() jhttp.QueueStats {
		q := h.QueueStats()
		out := jhttp.QueueStats{
			Loops:        make(map[string]jhttp.QueueFigures, len(q.Loops)),
			Disk:         jhttp.QueueFigures{Length: q.Disk.Length, HighWater: q.Disk.HighWater},
			DiskMaxBatch: q.Disk.MaxBatch,
			Timers:       jhttp.QueueFigures{Length: q.Timers.Length, HighWater: q.Timers.HighWater},
		}
		dc := h.DiskCommitLatency()
		out.DiskCommit = jhttp.DurationFigures{Bounds: dc.Bounds, Counts: dc.Counts, SumSeconds: dc.Sum.Seconds()}
		st := h.Stats()
		out.Output = jhttp.OutputFigures{PendingBytes: st.PendingOutput, CapCuts: st.SlowReaders, BudgetCuts: st.BudgetCuts}
		for name, f := range q.Loops {
			out.Loops[name] = jhttp.QueueFigures{Length: f.Length, HighWater: f.HighWater}
		}
		return out
	}
}

// connStats reads the host's connection figures for /metrics.
func connStats(h *reactor.Host) func() jhttp.ConnStats {
	return func() jhttp.ConnStats {
		out := jhttp.ConnStats{Accept: map[string]jhttp.AcceptFigures{}}
		for listener, a := range h.AcceptStats() {
			out.Accept[listener] = jhttp.AcceptFigures{Failures: a.Failures, Refused: a.Refused}
		}
		return out
	}
}

// externalAddrs are the addresses /route and /varz hand to clients: the
// configured ones, else the bound listeners. A listener on an unspecified
// address (0.0.0.0, ::) is advertised at the host's first non-loopback
// address, as WuKongIM does, and the choice is logged; set external_* for
// anything else (a NAT, a load balancer, a DNS name).
func (s *server) externalAddrs() (tcp, ws string) {
	s.extOnce.Do(func() { s.extTCP, s.extWS = s.chooseExternalAddrs() })
	return s.extTCP, s.extWS
}

func (s *server) chooseExternalAddrs() (tcp, ws string) {
	tcp, ws = s.cfg.ExternalTCPAddr, s.cfg.ExternalWSAddr
	if tcp == "" && s.host.TCPAddr() != nil {
		tcp = s.advertise("tcp", s.host.TCPAddr(), hostIP)
	}
	if ws == "" && s.host.WSAddr() != nil {
		ws = "ws://" + s.advertise("ws", s.host.WSAddr(), hostIP)
	}
	return tcp, ws
}

// advertise is the address of the listener a to hand to clients, logged
// when it had to be chosen.
func (s *server) advertise(listener string, a net.Addr, pick func() (net.IP, bool)) string {
	addr, chosen := reachable(a, pick)
	if chosen {
		s.log.Info("advertising a bound-to-any listener at the host's first non-loopback address (set external_"+listener+"_addr to change it)",
			"listener", listener, "bound", a.String(), "advertised", addr)
	}
	return addr
}

// reachable is a bound address as a client can dial it: an unspecified
// host becomes pick's address (127.0.0.1 when it has none). chosen says
// the host was replaced.
func reachable(a net.Addr, pick func() (net.IP, bool)) (addr string, chosen bool) {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String(), false
	}
	if ip := net.ParseIP(host); ip != nil && !ip.IsUnspecified() {
		return a.String(), false
	}
	host = "127.0.0.1"
	if ip, ok := pick(); ok {
		host = ip.String()
	}
	return net.JoinHostPort(host, port), true
}

// hostIP is the host's first non-loopback IPv4 address (interface order),
// else its first non-loopback, non-link-local IPv6 one.
func hostIP() (net.IP, bool) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, false
	}
	return firstNonLoopback(addrs)
}

func firstNonLoopback(addrs []net.Addr) (net.IP, bool) {
	var v6 net.IP
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if !ok || n.IP.IsLoopback() || n.IP.IsLinkLocalUnicast() || n.IP.IsUnspecified() {
			continue
		}
		if v4 := n.IP.To4(); v4 != nil {
			return v4, true
		}
		if v6 == nil {
			v6 = n.IP
		}
	}
	return v6, v6 != nil
}

// stop stops the started components in reverse order.
func (s *server) stop(why string) {
	for i := len(s.up) - 1; i >= 0; i-- {
		c := s.up[i]
		t0 := time.Now()
		c.stop()
		s.log.Info("component stopped", "component", c.name, "reason", why, "took", time.Since(t0))
	}
	s.up = nil
}

// listenError says which component could not listen where, as in
// "http: listen 0.0.0.0:5001: address already in use".
func listenError(component, addr string, err error) error {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return fmt.Errorf("%s: listen %s: %w", component, addr, errno)
	}
	var dns *net.DNSError
	if errors.As(err, &dns) || strings.Contains(err.Error(), "listen") || strings.Contains(err.Error(), "address") {
		return fmt.Errorf("%s: listen %s: %w", component, addr, err)
	}
	return fmt.Errorf("%s: %w", component, err)
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

// timedNode logs how long the node's own Start (open the store, recover
// every slot) and Stop (DISCONNECT every client, sync and close the store)
// take inside the core's start and stop.
type timedNode struct {
	*node.Node
	log *slog.Logger
}

func (t timedNode) Start(env runtime.Env) error {
	t0 := time.Now()
	err := t.Node.Start(env)
	if err == nil {
		t.log.Info("store opened and slots recovered", "component", "core", "took", time.Since(t0))
	}
	return err
}

func (t timedNode) Stop() {
	t0 := time.Now()
	t.Node.Stop()
	t.log.Info("clients disconnected, store synced and closed", "component", "core", "took", time.Since(t0))
}

// logPages says where the admin page and, when it answers, the chat demo
// are.
func (s *server) logPages() {
	base := "http://"
	if a := s.http.Addr(); a != nil {
		host, _ := reachable(a, hostIP)
		base += host
	}
	s.log.Info("admin page", "url", base+"/web/")
	if s.cfg.Demo && !s.cfg.TokenAuth && s.cfg.ManagerToken == "" {
		s.log.Info("chat demo (anyone who reaches it chats under any name: set demo: false, token_auth or a manager token in production)",
			"url", base+"/demo/")
	}
}

// slotsSummaryTimeout bounds how long the start-up summary of the slots
// waits for them all to catch up; slotsPollInterval is how often it asks.
const (
	slotsSummaryTimeout = 60 * time.Second
	slotsPollInterval   = 50 * time.Millisecond
)

// logSlots logs, in the background, one line once every slot has caught
// up (how many this node leads, how long it took): the raft groups' own
// lines are at debug.
func (s *server) logSlots() {
	begin := time.Now()
	go func() {
		for time.Since(begin) < slotsSummaryTimeout {
			r, err := s.stats()
			if err != nil {
				return // stopping
			}
			if r.CaughtUpSlots == r.Slots {
				s.log.Info("slots caught up", "slots", r.Slots, "leader", r.LeaderSlots, "took", time.Since(begin))
				s.started.Store(true)
				return
			}
			time.Sleep(slotsPollInterval)
		}
		s.log.Warn("slots: not all caught up", "waited", slotsSummaryTimeout)
	}()
}

// stats asks the node for its stats.
func (s *server) stats() (node.StatsReply, error) { return s.statsWithin(slotsSummaryTimeout) }

// statsWithin asks the node for its stats, waiting at most d.
func (s *server) statsWithin(d time.Duration) (node.StatsReply, error) {
	ch := make(chan error, 1)
	var reply node.StatsReply
	s.node.Submit(node.Stats{}, func(v any, err error) {
		if r, ok := v.(node.StatsReply); ok && err == nil {
			reply = r
		} else if err == nil {
			err = fmt.Errorf("stats answered %T", v)
		}
		ch <- err
	})
	select {
	case err := <-ch:
		return reply, err
	case <-time.After(d):
		return reply, errors.New("the node did not answer")
	}
}
