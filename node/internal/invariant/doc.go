// Package invariant holds the core's assertions: the checks a function makes
// of its own assumptions and of the state it governs. A broken invariant is a
// bug in Jindou, never bad input: it panics with a *Violation, which the
// simulator's seed harness reports with the seed's replay command and the
// production binary logs before it dies (better to stop than to serve
// corrupt state).
//
// Cheap checks (Always) run everywhere. Expensive ones (guarded by Enabled)
// run only in builds with the `jindou_invariants` tag, which the seeds and
// scenarios use: `go test -tags jindou_invariants ./sim`.
//
// Imports: the standard library only; node/ and node/state may import it.
package invariant
