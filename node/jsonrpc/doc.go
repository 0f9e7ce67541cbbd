// Package jsonrpc is WuKongIM's JSON-RPC 2.0 client protocol, the one its
// "Easy" SDKs speak over WebSocket text messages: it splits a connection's
// byte stream into JSON objects, decodes the client's requests and
// notifications (connect, send, recvack, ping, disconnect, subscribe,
// unsubscribe) into the WKProto packets of node/proto, and encodes the
// server's packets (CONNACK, SENDACK, RECV, PONG, DISCONNECT, SUBACK) as
// WuKongIM's responses and notifications. The gateway's logic is the same
// for both protocols; only this translation differs.
//
// The shapes are those of WuKongIM v2.2.5's pkg/jsonrpc (method names,
// camelCase field names, message ids as strings, payloads as base64
// strings of the plaintext: JSON-RPC connections are not encrypted).
//
// It lives in the deterministic core: pure code, no I/O, no clock, no
// randomness. It may import the standard library's encoding/json,
// encoding/base64, bytes, errors, fmt and strconv, and node/proto.
package jsonrpc
