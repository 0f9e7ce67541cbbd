// Package node is Jindou's deterministic core: the loops of one server —
// an API loop, gateway loops that own client connections, slot loops that
// own the slots' raft groups — written as single-threaded state machines
// that react to runtime.Events and act only through the runtime interfaces.
// The same code runs under the simulator (package sim) and the production
// runtime (runtime/reactor).
//
// Loops talk only by posting the typed messages of msgs.go to each other's
// addresses; a request carries a reply address, and the waiting loop keeps
// the continuation. What a command does to the store lives in node/state,
// the replicated state machine.
//
// Files, by loop and concern: node.go (start, stop, routing), msgs.go (the
// vocabulary), api.go and requests*.go (the API loop and its requests;
// requests_sync.go the sync_once queue and message events),
// gateway*.go and delivery.go (connections, SEND, RECV; gateway_login.go
// the ban check and the kicks of a login, gateway_errors.go protocol
// errors, gateway_rpc.go JSON-RPC connections through node/jsonrpc),
// presence*.go (a cluster's presence tables and targeted delivery; the
// gateway's half in presence_gateway.go), peer*.go (the codec between
// nodes), slotloop.go and
// slot_serve.go (the slot loop, its sends and reads), facts_cache.go (a
// slot loop's copy of the person facts of other loops' slots), ready.go
// (Ready handling and apply), recovery.go, compaction.go, raftstore.go,
// stats.go (stats_delivery.go the delivery and per-slot figures),
// requests_subscribers.go (a channel's subscribers, paged), logging.go,
// config.go (settings and named limits).
//
// Rules (enforced by internal/lint): no goroutines, no real clock, no
// sockets, no files but through the runtime's vfs.FS, no global randomness,
// no multi-case select, no function carried by a message between loops.
//
// Imports: the standard library (minus the above), package runtime (the
// interfaces only, none of its implementations), its own subpackages
// (proto, jsonrpc, state, internal/invariant), and the libraries of the core's
// stack (Pebble, etcd raft). Never sim/, chaos/, linearize/, http/ or
// runtime's subpackages.
package node
