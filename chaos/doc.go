// Package chaos holds Jindou's fault model: every fault is a plain,
// printable value with a class (node ids, times), a Plan is the faults of
// one run drawn from its seed (and the workload steps a run puts in it),
// and a plan's text form parses back (ParsePlan), so a run can be replayed
// with an edited plan and shrunk. The simulated world interprets a plan
// (sim/world.Schedule); chaos knows nothing of the simulator. A run prints
// its plan when it fails, so the log says what happened to the world.
// Counter counts the faults that fired and the workload features that
// happened across runs, so that a seed set in which one never did fails.
//
// The faults the system claims to survive — a failure under them is a bug:
//
//   - node crashes at any moment, losing all unsynced writes (power loss),
//     none of them (process crash), or a torn share of them, then restarts;
//     any node of a cluster, and every node at once (PowerLoss);
//   - disk commits that fail (the writes may or may not have landed);
//   - slow disks (commit latency);
//   - wall-clock jumps either way and monotonic clock drift;
//   - slow, fragmenting client connections; clients that disconnect or are
//     cut at any moment and retry with the same client_msg_no;
//   - node-to-node links that lose, duplicate, delay and reorder messages
//     (Link), and partitions that heal (Partition): both ways between two
//     nodes, one way, one node isolated, the leader of a slot isolated;
//   - membership changes during traffic: a node that joins (Join), a member
//     removed and then killed once its replicas moved away (Remove), and a
//     graceful stop that hands leaderships off first (Stop);
//   - a full disk (space runs out, then returns): writes are refused, reads
//     go on, writes come back without a restart.
//
// DrawSingleNode draws a one-node run's plan, DrawCluster a cluster's.
//
// Not claimed: a disk that loses synced writes or returns corrupt data, a
// clock that runs backwards monotonically, byzantine peers.
//
// Imports: the standard library and package runtime (for node ids).
package chaos
