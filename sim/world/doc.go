// Package world is the one construction of a simulated Jindou deployment
// that the simulator's seeds, the behaviour tests and the scenarios share:
// a sim.Sim, node processes added by id, named WKProto clients on actor
// loops, a driver of each node's HTTP API (the node.Request command
// interface, synchronous or with a callback, optionally recorded into a
// linearize history), and the helpers that run virtual time until
// something holds.
//
//	w := world.New(t, seed)
//	n := w.AddNode(1, node.Config{})
//	alice := w.Connected("alice", "phone")
//	n.MustCall(node.ChannelUpsert{...})
//	n.Crash(0)
//	n.Start()
//
// Nodes are addressed by id; AddCluster adds nodes 1..n as one cluster
// (node.Config.Members) and LeaderOf finds a slot's leader. Clients are the simulated
// WKProto client of package wkclient (its simulator actor); the package names its types Client
// and Sent so that replacing the client package is an import change here.
//
// Determinism: a world's randomness all derives from its seed (the
// simulator's named streams; with a *testing.T, also the global crypto
// randomness etcd raft draws its election jitter from, via
// testing/cryptotest). The order of construction is part of the trace: the
// same calls in the same order give the same trace hash.
//
// Schedule interprets a chaos.Plan: its faults on the simulator (crashes,
// power losses, disks, clocks, connections, partitions that heal and
// faulty links that recover; a leader partition finds the slot's leader
// from the nodes' stats when it fires), its workload steps through the
// caller's hook. HealAll ends every partition and link fault at once.
//
// Imports: the standard library, sim, runtime, node (its command interface
// and proto), linearize, chaos and wkclient. Only tests and the scenarios
// import it.
package world
