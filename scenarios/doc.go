// Package scenarios runs named, scripted scenarios — text files under
// testdata/ in the datadriven format of etcd raft's interaction tests —
// against a Jindou node in the simulator. A scenario reads top-down as a
// story (start a node, connect clients, send, crash, restart, read back),
// and under each command stands what every client and the API observed, in
// virtual time order; `go test ./scenarios -rewrite` regenerates that
// output, and a change in behaviour shows as a diff in review.
//
// A scenario runs one node (node) or a cluster (cluster nodes=N, then
// node=N on the commands that address a node; partition, heal, leader and
// replicas in cmd_cluster.go).
//
// Each command is handled in a file of its own (cmd_*.go). Running the same
// scripts against a real cluster of jindou processes is future work.
//
// The world itself (simulator, node, clients, API driver) is sim/world's,
// the construction the simulator's seeds and behaviour tests use too.
//
// Imports: the standard library, datadriven, node (its command interface and
// proto) and sim/world. Nothing imports this package.
package scenarios
