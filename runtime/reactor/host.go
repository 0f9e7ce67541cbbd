package reactor

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	goruntime "runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/jindou-im/jindou/runtime"
)

// Config configures a Host.
type Config struct {
	// NodeID is the hosted process's id; it must not be 0.
	NodeID runtime.NodeID
	// TCPAddr is the client TCP listener's address (host:port; port 0
	// picks a free one). Empty: no TCP listener.
	TCPAddr string
	// WSAddr is the WebSocket listener's address. Empty: no WebSocket.
	WSAddr string
	// PeerAddr is the node-to-node listener's address. Empty: this node
	// accepts no peer messages (it may still send).
	PeerAddr string
	// Peers are the other nodes' PeerAddrs. SetPeer changes them later.
	Peers map[runtime.NodeID]string
	// DataDir is the directory the process's file system is rooted at;
	// it is created if missing.
	DataDir string
	// Reactors is the number of epoll sub-reactors (default NumCPU).
	Reactors int
	// MaxPendingOutput is how many bytes a connection may have written and
	// not yet taken by the client before it is closed with ErrSlowReader
	// (default DefaultMaxPendingOutput). MaxTotalPendingOutput bounds the
	// same over every connection of the host (default
	// DefaultMaxTotalPendingOutput): past it, the connections that owe
	// the most are cut with ErrOutputBudget (queues.go).
	MaxPendingOutput, MaxTotalPendingOutput int
	// MaxWSMessage bounds an inbound WebSocket message (default
	// DefaultMaxWSMessage).
	MaxWSMessage int64
	// WSHandshakeTimeout bounds a WebSocket upgrade, from accept to the
	// upgraded socket (default 10 s); the binary sets the core's connect
	// timeout, so that a client that connects and sends nothing is closed
	// as soon on either port.
	WSHandshakeTimeout time.Duration
	// CloseLinger bounds how long a closed connection may keep flushing its
	// pending output (default DefaultCloseLinger); Stop gives every
	// connection at most StopLinger (default DefaultStopLinger) altogether.
	CloseLinger, StopLinger time.Duration
	// StopTimeout bounds how long Stop lets a Drainer finish the work in
	// flight (default DefaultStopTimeout); see stop.go.
	StopTimeout time.Duration
	// Logger receives the host's own log lines (default slog.Default()).
	Logger *slog.Logger
	// MaxOutbound bounds the outbound calls in flight (default
	// DefaultMaxOutbound); past it a call fails at once with
	// ErrOutboundBusy.
	MaxOutbound int
	// DiskReserve is the free space, in bytes, the data dir's file system
	// must keep: below it a disk commit fails with runtime.ErrDiskFull
	// without running, and Start refuses to start (disk.go). Default
	// DefaultDiskReserve; negative: no reserve (commits run until the
	// file system itself says ENOSPC).
	DiskReserve int64
	// WrapFS, if set, wraps the data dir's file system (tests inject
	// faults with it).
	WrapFS func(vfs.FS) vfs.FS
	// RefuseTCP, if set, answers a TCP client accepted at the fd cap:
	// given what it sent so far, the frames to write once that is enough
	// (done), done false to read more; done with nil: close it unanswered
	// (fdrefuse.go). Unset: such a client is closed at once.
	RefuseTCP func(in []byte) (answer []byte, done bool)
}

// The defaults of Config's limits.
const (
	// DefaultMaxPendingOutput and DefaultMaxTotalPendingOutput are the
	// output budget's, shared with the simulator (runtime.OutputBudget).
	DefaultMaxPendingOutput      = runtime.DefaultMaxPendingOutput
	DefaultMaxTotalPendingOutput = runtime.DefaultMaxTotalPendingOutput
	// DefaultMaxWSMessage is the largest inbound WebSocket message: the
	// core's default largest client frame (1 MiB, max_frame_size), which a
	// client sends as one message; a larger message is refused before it
	// is buffered whole.
	DefaultMaxWSMessage = 1 << 20
	// DefaultCloseLinger lets a closing connection flush its last output
	// (a DISCONNECT, a final SENDACK) over a slow link, yet frees it
	// within seconds when the client has gone.
	DefaultCloseLinger = 5 * time.Second
	// DefaultStopLinger bounds Stop's wait for every connection's last
	// flush together, so that a SIGTERM is done in about a second.
	DefaultStopLinger = time.Second
	// DefaultDiskReserve keeps room for what is written without a commit
	// (the applies of entries already committed, Pebble's flushes and the
	// WAL files it preallocates) once commits are refused: about two
	// memtables.
	DefaultDiskReserve = 64 << 20
	// DefaultStopTimeout is the longest Stop waits for a Drainer's work
	// in flight: SENDs commit within milliseconds unless a disk stalls.
	DefaultStopTimeout = 10 * time.Second
)

func (c *Config) setDefaults() {
	if c.Reactors <= 0 {
		c.Reactors = goruntime.NumCPU()
	}
	if c.MaxPendingOutput <= 0 {
		c.MaxPendingOutput = DefaultMaxPendingOutput
	}
	if c.MaxTotalPendingOutput <= 0 {
		c.MaxTotalPendingOutput = DefaultMaxTotalPendingOutput
	}
	if c.MaxWSMessage <= 0 {
		c.MaxWSMessage = DefaultMaxWSMessage
	}
	if c.WSHandshakeTimeout <= 0 {
		c.WSHandshakeTimeout = wsHandshakeTimeout
	}
	if c.CloseLinger <= 0 {
		c.CloseLinger = DefaultCloseLinger
	}
	if c.StopLinger <= 0 {
		c.StopLinger = DefaultStopLinger
	}
	if c.StopTimeout <= 0 {
		c.StopTimeout = DefaultStopTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.MaxOutbound <= 0 {
		c.MaxOutbound = DefaultMaxOutbound
	}
	if c.DiskReserve == 0 {
		c.DiskReserve = DefaultDiskReserve
	}
}

// Errors a ConnClosed may carry (besides io.EOF for a client that closed and
// the socket's own errors).
var (
	// ErrSlowReader: the connection's pending output exceeded
	// Config.MaxPendingOutput (runtime.ErrSlowReader).
	ErrSlowReader = runtime.ErrSlowReader
	// ErrOutputBudget: the host's connections together owed more than
	// Config.MaxTotalPendingOutput, and this one owed a large share
	// (runtime.ErrOutputBudget).
	ErrOutputBudget = runtime.ErrOutputBudget
	// ErrHostStopped: the host was stopping.
	ErrHostStopped = errors.New("reactor: host stopped")
)

// Host runs one process, once: New, Start, then Stop or Kill. To restart a
// process, make a new Host on the same DataDir.
type Host struct {
	cfg   Config
	log   *slog.Logger
	start time.Time
	proc  runtime.Process

	timers  *timerQueue
	disk    *diskWriter
	out     *outbound
	fs      vfs.FS
	ballast *ballast // the room kept for a disk that fills at once (ballast.go)
	tr      *transport
	pollers []*poller
	tcp     *acceptor
	ws      *wsServer
	// fdcap keeps a descriptor in reserve for the fd cap (fdcap.go).
	fdcap *fdCap

	// nextPoller spreads accepted connections over the pollers.
	nextPoller atomic.Uint32
	nextConnID atomic.Uint64
	// acceptMu serializes Process.Accept, which the TCP acceptor and the
	// WebSocket handlers call from their own goroutines.
	acceptMu sync.Mutex

	loopsMu sync.RWMutex
	// loops by name; guarded by loopsMu.
	loops map[string]*loop
	// running: loop goroutines start as loops are created (after Start);
	// guarded by loopsMu.
	running bool

	connsMu sync.Mutex
	// conns are the open client connections; guarded by connsMu.
	conns map[uint64]hostConn
	// closing refuses new connections; guarded by connsMu.
	closing bool
	// drained is closed when conns becomes empty while closing; guarded
	// by connsMu.
	drained chan struct{}

	randsMu sync.Mutex
	rands   map[string]runtime.Rand // guarded by randsMu

	// wg counts the goroutines the host started that Stop waits for.
	wg sync.WaitGroup
	// dead discards every effect once the process is killed.
	dead atomic.Bool

	stateMu sync.Mutex
	state   int // hostNew, hostStarted, hostStopped; guarded by stateMu

	stats  stats
	queues queueGauges
}

const (
	hostNew = iota
	hostStarted
	hostStopped
)

// hostConn is what Stop needs of a connection of either kind.
type hostConn interface {
	// closeGracefully flushes what it can, then closes; nil deliver error.
	closeGracefully()
	// closeNow closes at once with err.
	closeNow(err error)
}

// New makes a host. Nothing is bound until Start.
func New(cfg Config) *Host {
	cfg.setDefaults()
	h := &Host{
		cfg:   cfg,
		log:   cfg.Logger.With("node", uint64(cfg.NodeID)),
		loops: map[string]*loop{},
		conns: map[uint64]hostConn{},
		rands: map[string]runtime.Rand{},
	}
	h.tr = newTransport(h, cfg.Peers)
	h.out = newOutbound(h, cfg.MaxOutbound)
	h.fdcap = newFDCap(h)
	return h
}

// Start binds the listeners, starts p (p.Start runs on the caller's
// goroutine, before any loop runs), then starts the loops and begins
// accepting. If anything fails, what was started is stopped again.
func (h *Host) Start(p runtime.Process) (err error) {
	h.stateMu.Lock()
	defer h.stateMu.Unlock()
	if h.state != hostNew {
		return errors.New("reactor: a host starts once")
	}
	if h.cfg.NodeID == 0 {
		return errors.New("reactor: node id 0")
	}
	h.state = hostStopped // until everything is up
	h.start = time.Now()
	h.proc = p
	if h.fs, err = newRootFS(h.cfg.DataDir); err != nil {
		return err
	}
	if h.cfg.WrapFS != nil {
		h.fs = h.cfg.WrapFS(h.fs)
	}
	if err := h.keepRoom(); err != nil {
		return err // a start on a full disk: see checkDiskRoom
	}
	h.timers = startTimerQueue(&h.queues.timers)
	h.disk = startDiskWriter(h)
	defer func() {
		if err != nil {
			h.teardown(ErrHostStopped)
		}
	}()
	if err := h.bind(); err != nil {
		return err
	}
	if err := p.Start(env{h}); err != nil {
		return fmt.Errorf("reactor: process start: %w", err)
	}
	h.loopsMu.Lock()
	h.running = true
	for _, l := range h.loops {
		l.run()
	}
	h.loopsMu.Unlock()
	h.serve()
	h.state = hostStarted
	return nil
}

// bind opens every listener and the pollers without serving yet.
// ListenError is a listener that could not be bound.
type ListenError struct {
	Listener string // "tcp", "ws" or "peer"
	Addr     string
	Err      error
}

func (e *ListenError) Error() string {
	return fmt.Sprintf("reactor: %s listener on %s: %v", e.Listener, e.Addr, e.Err)
}

func (e *ListenError) Unwrap() error { return e.Err }

func (h *Host) bind() error {
	for range h.cfg.Reactors {
		p, err := newPoller(h)
		if err != nil {
			return err
		}
		h.pollers = append(h.pollers, p)
	}
	if h.cfg.TCPAddr != "" {
		a, err := listenTCP(h, h.cfg.TCPAddr)
		if err != nil {
			return &ListenError{Listener: "tcp", Addr: h.cfg.TCPAddr, Err: err}
		}
		h.tcp = a
	}
	if h.cfg.WSAddr != "" {
		w, err := listenWS(h, h.cfg.WSAddr)
		if err != nil {
			return &ListenError{Listener: "ws", Addr: h.cfg.WSAddr, Err: err}
		}
		h.ws = w
	}
	if h.cfg.PeerAddr != "" {
		if err := h.tr.listen(h.cfg.PeerAddr); err != nil {
			return &ListenError{Listener: "peer", Addr: h.cfg.PeerAddr, Err: err}
		}
	}
	return nil
}

// serve starts the goroutines that accept and poll.
func (h *Host) serve() {
	h.fdcap.open()
	for _, p := range h.pollers {
		p.serve()
	}
	if h.tcp != nil {
		h.tcp.serve()
	}
	if h.ws != nil {
		h.ws.serve()
	}
	h.tr.serve()
}

// TCPAddr is the bound TCP client listener's address, or nil.
func (h *Host) TCPAddr() net.Addr {
	if h.tcp == nil {
		return nil
	}
	return h.tcp.addr
}

// WSAddr is the bound WebSocket listener's address, or nil.
func (h *Host) WSAddr() net.Addr {
	if h.ws == nil {
		return nil
	}
	return h.ws.ln.Addr()
}

// PeerAddr is the bound node-to-node listener's address, or nil.
func (h *Host) PeerAddr() net.Addr { return h.tr.addr() }

// SetPeer sets (or changes) the address node id is dialled at.
func (h *Host) SetPeer(id runtime.NodeID, addr string) { h.tr.setPeer(id, addr) }

// Stop shuts the process down gracefully: no new connections are accepted;
// a Drainer is let finish its work in flight while the loops still run
// (stop.go); then every loop finishes its current event and parks; queued disk commits run;
// then p.Stop runs on the caller's goroutine (it may still write to
// connections), its writes are flushed, and every connection is closed after
// flushing for at most Config.StopLinger. Events still queued, and
// ConnClosed of the connections Stop closes, are not delivered: the process
// has stopped. Stop returns when every goroutine of the host has exited.
func (h *Host) Stop() {
	if !h.beginStop() {
		return
	}
	h.stopAccepting()
	if d, ok := h.proc.(Drainer); ok {
		h.drain(d)
	}
	h.parkLoops()
	h.disk.drain()
	h.proc.Stop()
	h.flushParkedLoops()
	h.closeConns()
	h.teardown(ErrHostStopped)
}

// Kill crashes the process: listeners close, every connection is cut, every
// effect the process attempts from now on is discarded, queued commits are
// dropped, then p.Kill runs.
func (h *Host) Kill() {
	if !h.beginStop() {
		return
	}
	h.dead.Store(true)
	h.stopAccepting()
	h.disk.discard()
	h.parkLoops()
	h.teardown(ErrHostStopped)
	h.proc.Kill()
}

func (h *Host) beginStop() bool {
	h.stateMu.Lock()
	defer h.stateMu.Unlock()
	if h.state != hostStarted {
		return false
	}
	h.state = hostStopped
	return true
}

// stopAccepting refuses new connections and closes the client listeners.
func (h *Host) stopAccepting() {
	h.connsMu.Lock()
	h.closing = true
	h.connsMu.Unlock()
	if h.tcp != nil {
		h.tcp.close()
	}
	if h.ws != nil {
		h.ws.close()
	}
	h.fdcap.release()
}

// parkLoops makes every loop finish its current event and wait for teardown.
func (h *Host) parkLoops() {
	h.loopsMu.Lock()
	h.running = false
	var parked sync.WaitGroup
	for _, l := range h.loops {
		parked.Add(1)
		l.park(&parked)
	}
	h.loopsMu.Unlock()
	parked.Wait()
}

// flushParkedLoops flushes what the process wrote during Stop. Every loop is
// parked, so Stop's goroutine owns their state.
func (h *Host) flushParkedLoops() {
	h.loopsMu.RLock()
	defer h.loopsMu.RUnlock()
	for _, l := range h.loops {
		l.flush()
	}
}

// closeConns closes every connection, letting them flush for at most
// StopLinger.
func (h *Host) closeConns() {
	h.connsMu.Lock()
	open := make([]hostConn, 0, len(h.conns))
	for _, c := range h.conns {
		open = append(open, c)
	}
	if len(h.conns) > 0 {
		h.drained = make(chan struct{})
	}
	drained := h.drained
	h.connsMu.Unlock()
	if drained == nil {
		return
	}
	for _, c := range open {
		c.closeGracefully()
	}
	t := time.NewTimer(h.cfg.StopLinger)
	defer t.Stop()
	select {
	case <-drained:
	case <-t.C:
	}
}

// teardown closes whatever is still open and waits for every goroutine.
func (h *Host) teardown(err error) {
	h.stopAccepting()
	h.connsMu.Lock()
	open := make([]hostConn, 0, len(h.conns))
	for _, c := range h.conns {
		open = append(open, c)
	}
	h.connsMu.Unlock()
	for _, c := range open {
		c.closeNow(err)
	}
	h.loopsMu.Lock()
	h.running = false
	for _, l := range h.loops {
		l.quit()
	}
	h.loopsMu.Unlock()
	for _, p := range h.pollers {
		p.close()
	}
	h.tr.close()
	h.out.close()
	h.disk.close()
	h.timers.close()
	h.wg.Wait()
}

// addConn registers a new connection; false when the host is closing.
func (h *Host) addConn(id uint64, c hostConn) bool {
	h.connsMu.Lock()
	defer h.connsMu.Unlock()
	if h.closing {
		return false
	}
	h.conns[id] = c
	h.stats.accepted.Add(1)
	return true
}

// dropConn forgets a closed connection.
func (h *Host) dropConn(id uint64) {
	h.connsMu.Lock()
	defer h.connsMu.Unlock()
	delete(h.conns, id)
	if len(h.conns) == 0 && h.drained != nil {
		close(h.drained)
		h.drained = nil
	}
}

// accept asks the process which loop owns a new connection; nil if the
// answer is not a loop of this host.
func (h *Host) accept(info runtime.ConnInfo) *loop {
	h.acceptMu.Lock()
	defer h.acceptMu.Unlock()
	l, ok := h.proc.Accept(info).(*loop)
	if !ok || l.h != h {
		h.log.Error("reactor: Accept returned a loop of another host; closing the connection", "remote", info.RemoteAddr)
		return nil
	}
	return l
}

// loopNamed returns the loop named name, or nil.
func (h *Host) loopNamed(name string) *loop {
	h.loopsMu.RLock()
	defer h.loopsMu.RUnlock()
	return h.loops[name]
}

// Stats are the host's counters.
type Stats struct {
	// Accepted counts client connections accepted; Open is how many are
	// open now.
	Accepted, Open int64
	// SlowReaders counts connections closed with ErrSlowReader;
	// BudgetCuts those closed with ErrOutputBudget; PendingOutput is the
	// output all connections owe now.
	SlowReaders, BudgetCuts, PendingOutput int64
	// PeerSent counts peer messages written to a socket; PeerDropped those
	// dropped (peer unknown or unreachable, queue full, write failed);
	// PeerReceived those delivered to a loop; PeerUnknownLoop those dropped
	// because no loop has the name.
	PeerSent, PeerDropped, PeerReceived, PeerUnknownLoop int64
	// DiskCommits counts commits run.
	DiskCommits int64
	// OutboundCalls counts outbound calls made; OutboundFailures those
	// that got no answer (refused, timed out, over the limit).
	OutboundCalls, OutboundFailures int64
}

type stats struct {
	accepted, slowReaders, budgetCuts, pendingOutput     atomic.Int64
	peerSent, peerDropped, peerReceived, peerUnknownLoop atomic.Int64
	diskCommits                                          atomic.Int64
}

// Stats returns the host's counters.
func (h *Host) Stats() Stats {
	h.connsMu.Lock()
	open := int64(len(h.conns))
	h.connsMu.Unlock()
	s := &h.stats
	return Stats{
		Accepted: s.accepted.Load(), Open: open, SlowReaders: s.slowReaders.Load(),
		BudgetCuts: s.budgetCuts.Load(), PendingOutput: s.pendingOutput.Load(),
		PeerSent: s.peerSent.Load(), PeerDropped: s.peerDropped.Load(),
		PeerReceived: s.peerReceived.Load(), PeerUnknownLoop: s.peerUnknownLoop.Load(),
		DiskCommits:   s.diskCommits.Load(),
		OutboundCalls: h.out.calls.Load(), OutboundFailures: h.out.failures.Load(),
	}
}
