// Package sim is Jindou's deterministic simulator: it hosts any number of
// runtime.Process values (nodes) and simulated client actors on one
// goroutine, in virtual time, and implements package runtime for them.
//
// One root seed drives a run. Every random stream is derived from it by name
// (Sim.Rand), so adding a consumer never shifts another. Events sit in a heap
// ordered by (virtual time, insertion number); executing an event folds
// (time, process, loop, kind, payload digest) into a rolling trace hash, so
// two runs of the same seed at the same commit give the same hash on any
// machine and any GOMAXPROCS.
//
// What it simulates: per-process clocks that can drift and jump; loops and
// timers; client connections as byte streams with latency that can be cut,
// whose clients may stop reading and be cut by the reactor's output budget
// (output.go, runtime.OutputBudget);
// node-to-node links with latency, loss, duplication, reordering and one-way
// partitions; a disk per process on Pebble's crashable in-memory file system
// with commits that complete after a simulated latency (or fail) and can be
// held (a stuck fsync) until released, and crashes that keep a seeded choice
// of the unsynced data; outbound calls to one external endpoint (a webhook
// receiver) with seeded latency, refusals and lost answers.
//
// Imports: the standard library, package runtime and Pebble's vfs. Never
// node/ (the lint test checks it): sim hosts whatever implements
// runtime.Process, and its own tests use the toy process in internal/toy.
// The worlds of Jindou nodes that the seeds, the behaviour tests and the
// scenarios run are built by the subpackage sim/world, which does import
// node.
package sim
