// Package reactor is Jindou's production runtime: it hosts one
// runtime.Process on real sockets, real time and real files.
//
// A Host gives the process:
//
//   - loops: one goroutine each, draining an unbounded queue of events one at
//     a time; at the end of every event (a turn) each connection written
//     during the turn is flushed;
//   - timers: a min-heap of deadlines served by one goroutine per host
//     (timer.go), so an idle timer per connection costs a heap slot, not a
//     runtime timer or a goroutine;
//   - client connections over TCP: one acceptor and N sub-reactors, each an
//     edge-triggered epoll instance on non-blocking sockets (poller.go);
//     pending output beyond Config.MaxPendingOutput closes the connection
//     with ErrSlowReader;
//   - client connections over WebSocket (ws.go): net/http takes the upgrade
//     request and github.com/gobwas/ws answers it; the socket then joins a
//     poller like a TCP one, its frames parsed and written there with
//     gobwas/ws's framing, no goroutine per connection; each Conn.Write call
//     is sent as one binary message; the upgrade must be done within
//     Config.WSHandshakeTimeout;
//   - the fd cap (fdcap.go, fdrefuse.go): descriptors kept in reserve, so
//     that when accept fails with EMFILE or ENFILE the listeners still
//     take what waits in their backlog and answer it at once (a WebSocket
//     client gets a 503 naming the cause; a TCP one whose CONNECT comes
//     within 2 s gets Config.RefuseTCP's answer, a few at a time on
//     goroutines of their own, the rest a close) instead of leaving it to
//     its own timeout; logged once when the episode starts and once when
//     it ends, counted by Host.AcceptStats;
//   - a disk: the real file system rooted at Config.DataDir, and a
//     disk-writer goroutine that runs commits in submission order,
//     back to back (group commit);
//   - node-to-node transport over TCP with lazy dialling and reconnects;
//     every connection starts with a handshake both ways carrying the node
//     id, the cluster token (compared in constant time; a mismatch is
//     refused before any frame) and an opaque card, and PeerStats shows each
//     peer's link state and card (peer_auth.go);
//   - a monotonic clock and ChaCha8 random streams seeded from crypto/rand.
//
// Hosting: New(Config), then Start(p): the listeners are bound first, then
// p.Start runs on the caller's goroutine before any loop runs, then the
// loops start and the listeners accept. Process.Accept is called on the
// host's accepting goroutines, serialized, concurrently with the loops: it
// may touch only its own state. Stop parks every loop (each finishes its
// current event), runs the queued disk commits, calls p.Stop with no loop
// running, flushes what it wrote, closes every connection (flushing for at
// most Config.StopLinger) and waits for every goroutine; events still queued
// are not delivered, nor the ConnClosed of the connections Stop closes.
// Kill cuts everything and calls p.Kill.
//
// Connection events: ConnOpened first, then ConnData, then exactly one
// ConnClosed; Err is nil when the process closed the connection, io.EOF
// when the client did, ErrSlowReader over the output limit, or the socket's
// error. Timer.Stop may be called only from the loop that armed the timer.
//
// Goroutine ownership is written on the fields it governs: "loop-owned"
// fields are touched only by the goroutine of the loop that owns the
// connection (or by Stop while every loop is parked); "guarded by mu" fields
// only with that mutex held.
//
// Imports: the standard library, golang.org/x/sys/unix, gobwas/ws,
// Pebble's vfs and package runtime. Nothing of node/ or sim/: the core must
// not know which runtime hosts it.
package reactor
