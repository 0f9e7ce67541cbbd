// Package wkclient is the one WKProto client of Jindou's tests and tools:
// it speaks the real binary protocol with the real handshake and encryption
// (node/proto), as the SDKs do, so that whatever drives it exercises the
// server as a real client would.
//
// Its one job is the client side of a connection, and it does it once, in
// Session (session.go, events.go): a sans-IO session with no sockets,
// goroutines, clock or global randomness. Its drivers move its bytes:
//
//   - Client (actor.go), a runtime.Handler for the deterministic simulator:
//     its key material comes from the random stream it is given, its
//     callbacks run on its actor's loop.
//   - NetClient (net.go, ws.go), a blocking client over TCP or WebSocket
//     for the end-to-end tests and `jindou bench`, using real time and
//     crypto/rand. It is not Client because the actor has that name.
//
// Imports: the standard library, node/proto, runtime (its interfaces only)
// and, for the network driver, github.com/gorilla/websocket. Never sim/,
// node/'s internals or e2e/; node/ never imports this package.
package wkclient
