// Package scenarios runs named, scripted scenarios — text files under
// testdata/ in the datadriven format of etcd raft's interaction tests —
// against a Jindou node in the simulator, and against real jindou
// processes. A scenario reads top-down as a story (start a node, connect
// clients, send, crash, restart, read back), and under each command stands
// what every client and the API observed, in time order; `go test
// ./scenarios -rewrite` regenerates that output from the simulator, and a
// change in behaviour shows as a diff in review.
//
// A scenario runs one node (node) or a cluster (cluster nodes=N, then
// node=N on the commands that address a node; partition, heal, leader and
// replicas in cmd_cluster.go). Each command is handled in a file of its own
// (cmd_*.go), against a backend (backend.go):
//
//   - the simulator (backend_sim.go): sim/world's world, the construction
//     the simulator's seeds and behaviour tests use too; virtual time, so
//     the output is exact. TestScenarios runs every file on it.
//   - real processes (backend_real.go): `jindou run` on 127.0.0.1 with
//     temporary data dirs, a cluster's peer links through in-process
//     toxiproxy (partition cuts them), WKProto clients over TCP
//     (real_client.go, wkclient's session with its encryption), the api
//     command as HTTP routes (real_api.go), crash as kill -9, stop as
//     SIGTERM. TestScenariosReal runs it when given -jindou=<binary>
//     (`make scenarios-real`; `make test` runs a subset).
//
// The real backend compares each command's output with the file's in
// normalized form (scenario.go): timestamps stripped, a closed
// connection's error dropped, and each client's lines grouped by client in
// name order, since the order between clients is not determined in real
// time; one client's own order, seqs, reasons and contents must match. It
// never rewrites a file. A fault the real world cannot make (hold-disk;
// crash keep=N below 100, a power loss; replicas' state digests, which the
// HTTP API does not show) fails with "skipped on real: …", and a file that
// needs one says so on a `# backends: sim (real: <why>)` line in its header
// comment; TestScenariosReal skips it with that reason.
//
// Imports: the standard library, datadriven, node (its command interface,
// proto and state), sim/world, wkclient, and toxiproxy with its prometheus
// and zerolog dependencies. Nothing imports this package.
package scenarios
