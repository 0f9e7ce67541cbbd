// Package wkclient is a WKProto client for tests: it speaks the real binary
// protocol with the real handshake and encryption (node/proto) over any
// runtime.Conn, so simulated clients exercise the server exactly as the
// SDKs do. It is an actor's handler: every callback runs on the actor's loop.
//
// Imports: the standard library, runtime and node/proto. It is test
// support, never imported by node/.
package wkclient
