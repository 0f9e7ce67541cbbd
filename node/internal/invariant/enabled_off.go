//go:build !jindou_invariants

package invariant

// Enabled is true in builds with the `jindou_invariants` tag: expensive checks run
// only then (`if invariant.Enabled { ... }`).
const Enabled = false
