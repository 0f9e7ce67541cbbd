// Package state is Jindou's replicated state machine: what every command
// does to a slot's applied state, and every read of it. It holds the
// commands and their encoding, apply (Machine.Apply), the write-through
// cache of hot records (cache.go; dedupe_cache.go the dedupe records, complete
// per channel and sender), the send and sync rules, the key space of both
// stores (the raft store's keys included), the record encodings and the
// one message-id layout; syncqueue.go holds the per-user queue of
// sync_once messages, events.go the events appended to messages. A
// reader who wants to know what a message does to the store reads this
// package and nothing else.
//
// It is a leaf: it knows nothing of loops, raft or the runtime. Apply is
// deterministic: every replica applying the same commands in the same
// order reaches the same state, seqs and message ids.
//
// Imports: the standard library, Pebble, node/proto and
// node/internal/invariant only (internal/lint enforces it).
package state
