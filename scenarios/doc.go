// Package scenarios runs named, scripted scenarios — text files under
// testdata/ in the style of etcd raft's datadriven interaction tests (add
// nodes, connect clients, send, partition, crash, heal, check) — in the
// simulator, and against a real cluster of jindou processes.
//
// Status: not built yet; the simulator it drives is in package sim.
//
// Imports: the standard library, sim, node and linearize (test code may
// import anything).
package scenarios
