// Package chaos holds the fault model and its injectors: network
// partitions, link loss, delay, duplication and reordering, node crashes
// that lose unsynced writes, pauses, clock skew and jumps, disk commit
// errors, client disconnects and slow readers. Each fault is a printable
// value, so a run's plan appears in its log, and this package's doc lists
// the faults the system claims to survive.
//
// Status: the simulator (package sim) already implements the mechanisms;
// the fault plans and their printable values come with the checked
// simulation issue.
//
// Imports: the standard library and package sim.
package chaos
