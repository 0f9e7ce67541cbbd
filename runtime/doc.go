// Package runtime is the boundary between Jindou's deterministic core (node/)
// and the world: it defines the small set of interfaces the core sees — a
// clock, loops with timers, client connections, node-to-node transport, a
// disk, outbound calls to external services and a random source — and the
// Process interface a runtime hosts.
//
// Two runtimes implement it: the simulator (package sim), which runs every
// loop of every process on one goroutine in virtual time, and the production
// runtime (the epoll reactor, added later in this package's subpackages).
//
// The core only ever reacts to Events delivered to a loop's Handler and acts
// through the interfaces below; it never blocks, never starts goroutines,
// never reads the real clock.
//
// Besides the interfaces it holds what both runtimes must decide alike: the
// output budget that cuts a client that stops reading (output.go).
//
// Imports: the standard library (time, io, log/slog) and github.com/cockroachdb/pebble/v2/vfs.
// This package must not import node/, sim/ or any other package of this module,
// so that both sides of the boundary can depend on it.
package runtime
