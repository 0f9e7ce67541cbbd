package runtime

import (
	"io"
	"log/slog"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// NodeID names a process in a cluster. 0 is never a valid id.
type NodeID uint64

// Process is what a runtime hosts: one Jindou node (or, in the simulator's
// own tests, a toy service).
//
// Lifecycle: the runtime calls Start once with a fresh Env; the process
// creates its loops and opens its storage from env.Disk(). Stop is a graceful
// shutdown. Kill is a crash seen from inside: the runtime has already cut the
// process off (its connections are gone, its disk frozen or cloned) and every
// effect the process attempts afterwards is discarded; Kill only releases
// resources (open files, library goroutines) and must not block. After Stop
// or Kill the runtime may Start a new Process on the same (or a crash-cloned)
// disk.
type Process interface {
	// Start brings the process up. It runs outside any loop; it may do
	// synchronous work on the disk (open and recover storage).
	Start(env Env) error
	// Accept picks the loop that owns a new client connection. The runtime
	// then delivers that connection's ConnOpened, ConnData and ConnClosed
	// events to that loop, in order.
	Accept(info ConnInfo) Loop
	// Stop shuts the process down gracefully.
	Stop()
	// Kill releases resources after a crash. See Process.
	Kill()
}

// Env is everything a process may use of the world.
type Env interface {
	// Node is this process's id.
	Node() NodeID
	// Clock is this process's clock (which the simulator may skew).
	Clock() Clock
	// NewLoop creates a loop that delivers events to h one at a time.
	// Loop names are unique within a process; peers address loops by name.
	NewLoop(name string, h Handler) Loop
	// Transport sends messages to other processes.
	Transport() Transport
	// Disk is this process's storage.
	Disk() Disk
	// Outbound calls services outside the cluster (webhook receivers).
	Outbound() Outbound
	// Rand returns the random stream with the given name. In simulation each
	// name is derived from the run's root seed, so adding a stream never
	// shifts another; in production streams are seeded from crypto/rand.
	// A stream belongs to the loop that uses it.
	Rand(name string) Rand
	// Log is where the process reports what operators must see (storage
	// errors, recoveries). The simulator discards it unless a test gives
	// it a sink; the core never logs any other way.
	Log() *slog.Logger
}

// Clock tells time. Monotonic time never goes backwards; wall time may jump.
type Clock interface {
	// Now is monotonic time since an arbitrary origin fixed for the process.
	Now() time.Duration
	// Wall is the wall-clock time (used only for timestamps shown to users).
	Wall() time.Time
}

// Handler receives a loop's events. Handle runs one event to completion and
// must not block; it acts only through the runtime's interfaces.
type Handler interface {
	Handle(ev Event)
}

// Loop is a single-threaded owner of work. Everything posted to a loop, and
// every timer it arms, comes back to its Handler as an Event, one at a time.
// Post may be called from any loop of the same process and, in production,
// from any goroutine (the HTTP layer's handlers submit requests that way);
// After only from the loop itself.
type Loop interface {
	// Name is the loop's name within its process.
	Name() string
	// Post delivers Posted{Msg: m} to the loop's handler later. Messages
	// posted from one loop to another arrive in the order they were posted.
	Post(m Msg)
	// After arms a timer that delivers TimerFired{Tag: tag} to this loop
	// after d of monotonic time. Arm it only from the loop itself.
	After(d time.Duration, tag any) Timer
}

// Msg is a message posted between loops. Kind names it in traces.
type Msg interface {
	Kind() string
}

// Digester is implemented by messages whose content should be part of the
// simulator's trace hash (beyond their Kind).
type Digester interface {
	Digest() uint64
}

// Timer is an armed timer.
type Timer interface {
	// Stop cancels the timer; it reports whether the timer had not yet fired.
	// A stopped timer's event is never delivered.
	Stop() bool
}

// ConnInfo describes a newly accepted client connection.
type ConnInfo struct {
	// Listener names the listener that accepted it ("tcp", "ws").
	Listener string
	// RemoteAddr is the peer's address, host:port.
	RemoteAddr string
}

// Conn is a client connection owned by one loop. Its methods may be called
// only from the owning loop.
type Conn interface {
	// ID is unique among the process's connections for its lifetime.
	ID() uint64
	// Info is what was known at accept time.
	Info() ConnInfo
	// Write appends b to the connection's output buffer; the runtime copies
	// b before returning. Buffered output is flushed in one write once the
	// loop has handled the events it took together: the simulator takes
	// one event at a time, the production runtime every event queued when
	// it looked, so a burst of events costs one write per connection.
	// Writing to a closed connection is a no-op.
	Write(b []byte)
	// Close flushes buffered output, then closes the connection. ConnClosed
	// follows as an event.
	Close()
}

// Transport sends messages to other processes of the cluster. Delivery is
// not guaranteed: messages may be lost, duplicated, delayed and reordered;
// the core must tolerate all of that (raft does).
type Transport interface {
	// Send delivers PeerMsg{From: self, Data: data} to the loop named loop on
	// node to. The runtime takes ownership of data.
	Send(to NodeID, loop string, data []byte)
}

// Disk is a process's storage: a file system for Pebble and an asynchronous
// committer.
type Disk interface {
	// FS is the file system to open storage on.
	FS() vfs.FS
	// Commit runs fn off the calling loop and later delivers
	// DiskDone{Tag: tag, Err: err} to the loop. fn must make its writes
	// durable (sync them) before it returns nil, and must touch no loop
	// state: it may run on another goroutine. Commits of one process
	// complete in the order they were submitted. Nothing may be
	// acknowledged to anyone before its DiskDone has arrived.
	Commit(from Loop, fn func() error, tag any)
}

// Rand is a seeded random stream: a source of uint64s and of bytes
// (math/rand/v2.ChaCha8 satisfies it). Use rand.New(r) for helpers.
type Rand interface {
	io.Reader
	Uint64() uint64
}

// Outbound makes requests to services outside the cluster (a webhook
// receiver's HTTP endpoint). The core never opens a socket: it hands the
// request over and its completion comes back as an event, as a disk
// commit's does.
type Outbound interface {
	// Call sends req off the calling loop and later delivers
	// OutboundDone{Tag: tag, ...} to from, exactly once per call while the
	// process lives: with the answer's status and body, or with Err set
	// (refused, timed out after req.Timeout, or the runtime's own limit of
	// calls in flight was reached). Call never blocks. The runtime only
	// reads req.Body; the caller must not change it before the completion
	// (it may send the same bytes again). A request that timed out may still have
	// reached the service: callers that must not lose a request retry it,
	// and the service sees it at least once.
	Call(from Loop, req OutboundRequest, tag any)
}

// OutboundRequest is one request to an external service.
type OutboundRequest struct {
	// Method is the HTTP method ("POST").
	Method string
	// URL is the full address, query included.
	URL string
	// ContentType is the body's media type.
	ContentType string
	Body        []byte
	// Timeout bounds the whole call, from Call to the answer's last byte.
	Timeout time.Duration
}
