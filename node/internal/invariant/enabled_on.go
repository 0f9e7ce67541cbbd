//go:build invariants

package invariant

// Enabled is true in builds with the `invariants` tag: expensive checks run
// only then (`if invariant.Enabled { ... }`).
const Enabled = true
