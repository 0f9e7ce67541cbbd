// Package node is Jindou's deterministic core: everything that decides
// anything about connections, channels, messages and the cluster, written as
// single-threaded state machines that react to runtime.Events on their loops
// and act only through the runtime interfaces. The same code runs under the
// simulator (package sim) and the production runtime.
//
// Rules (enforced by internal/lint): no goroutines, no real clock, no
// sockets, no files but through the runtime's vfs.FS, no global randomness,
// no multi-case select, and no map iteration order reaching output.
//
// Imports: the standard library (minus the above), package runtime (the
// interfaces only, none of its implementations), its own subpackages, and
// the libraries of the core's stack (Pebble, etcd raft). Never sim/, chaos/,
// linearize/, http/ or runtime's subpackages.
//
// Subpackages: proto (the WKProto codec and crypto). The server core itself
// is built in later issues.
package node
