// Package linearize records the history of every client operation in a
// simulated run (call and return in virtual time, outcome ok, failed or
// unknown) and checks it: linearizability of each channel's append-only log
// with github.com/anishathalye/porcupine, and linear-time invariants over
// everything observed (see DESIGN.md section 4).
//
// Status: not built yet (issue "Checked simulation").
//
// Imports: the standard library and porcupine. Never node/ or sim/: it
// checks histories, whoever produced them.
package linearize
