// Package http serves Jindou's HTTP API: WuKongIM v2's routes, field names
// and envelopes (docs/API.md), with github.com/labstack/echo/v4. Each
// request is decoded and checked, turned into a typed command of the core
// (node.Request), submitted to the node and answered when the node calls
// back, or with 503 after Config.RequestTimeout (never blocking forever).
//
// The seam with the binary (server.go): New(Config, Submitter), Handler,
// Start (binds, serves in the background), Addr, Stop (graceful: the sends in flight answered first, new ones 503, drain.go),
// SetComponentsReady (/readyz needs it and node.Ready), Registry (the
// /metrics registry) and Config.QueueStats (the runtime's queue figures,
// which the binary reads from the reactor host: this package does not
// import the runtime). routes.go holds the API (routes_conn.go,
// routes_messages2.go, routes_messages3.go (the sync_once queue and
// message events) and routes_tmpchannel.go the later WuKongIM routes,
// routes_unsupported.go the 404s of the ones left out, routes_subscribers.go
// Jindou's GET /channel/subscribers), ops.go the operational routes, metrics.go
// the Prometheus collector (metrics_delivery.go delivery, webhook queue,
// snapshots and disk commit times; metrics_slots.go the per-slot series),
// views.go the response shapes. Config.Ops
// (web.go) switches the rest: the admin page and the chat demo (pages.go,
// demo.go, their files in package web), /metrics with a bearer token,
// /debug/pprof (pprof.go), CORS (cors.go); errlog.go logs failed requests,
// timing.go times every request. Config.Limits (limits.go) bound bodies,
// requests and body bytes in flight, and the listener's read, write and
// idle timeouts; Config.ConnStats (metrics_conns.go) brings the runtime's
// slow reader cuts and accept failures to /metrics; listener.go keeps the
// fd cap's accept failures out of net/http's log (one line per episode).
// timing.go times every request. routes_cluster.go serves /cluster/nodes
// and /cluster/slots and picks the member /route hands a uid, from
// Config.Cluster (the members and their link state, filled by the binary).
//
// # Envelopes
//
// Success is {"status":200}, {"status":200,"data":...} (only
// /message/send) or a bare JSON value, route by route as WuKongIM answers.
// Errors are {"status":N,"msg":"field: what is wrong"} with HTTP N: 400 for
// bad input (the message starts with the field's JSON name, a nested one
// dotted like "header.red_dot"; "body" when the body is not one JSON
// value); a send the node refused is 400 with "reason_code" (the protocol's
// ReasonCode) added; 401 for a missing or wrong manager token; 404 and 405
// for unknown routes and methods; 408 for a body not received within the
// read timeout, 413 for one over its route's limit (naming the limit and
// its key), 429 past the requests or body bytes allowed in flight; 503
// when the node did not answer in time or has no slot leader; 500
// otherwise.
//
// # Decisions where API.md is silent
//
// Matched against WuKongIM v2's internal/api and internal/types.
//
//   - Switches (large, ban, disband, send_ban, allow_stranger, reset,
//     temp_subscriber, only_unread, header.no_persist/red_dot/sync_once)
//     are 0/1 ints as WuKongIM reads and writes them; true and false are
//     accepted too; any other value is a 400 naming the field.
//   - Unknown request fields are ignored (WuKongIM's clients send
//     stream_no, message_ids and the like); wrong types are not.
//   - Message JSON is WuKongIM's MessageResp without the stream fields;
//     "topic" is omitted when empty, as WuKongIM does; message_idstr is the
//     decimal message_id. A person channel's channel_id is the other party
//     as seen by login_uid (or uid); without one, the party other than the
//     sender.
//   - /message/send without client_msg_no gets one (32 hex digits and "0",
//     as WuKongIM's GenUUID()+"0"), so the reply always carries one.
//     channel_id together with subscribers is a 400 (WuKongIM refuses it
//     too).
//   - /channel/subscriber_add defaults channel_type 0 to a group, as
//     WuKongIM; subscribers must be non-empty (add and remove); uids must
//     be non-empty for *_add and *_remove, not for *_set and *_remove_all.
//   - /user/systemuids_add and _remove with no uids answer 200 and do
//     nothing (WuKongIM). /user/onlinestatus with [] answers [] (WuKongIM
//     answers {"status":200}, which an array-expecting client cannot read).
//   - GET /channel/whitelist and GET /user/systemuids answer a bare array
//     of uids; GET /channel/blacklist is added alongside.
//   - GET /channel/max_message_seq takes an optional login_uid, needed to
//     name a person channel by the peer's uid.
//   - POST /messages answers a bare [Message] as API.md says (current
//     WuKongIM wraps it as {"messages":[...]} with zero seqs).
//   - /conversation/sync: recents are newest first (WuKongIM reads
//     recents[0] as the last message); version is the last message's time
//     in Unix nanoseconds (WuKongIM: time.Unix(ts,0).UnixNano());
//     offset_msg_seq is 0. As in WuKongIM, a conversation listed in
//     last_msg_seqs ("id:type:seq|...", id as the client names it) is left
//     out when the client's seq is not behind, and its recents start after
//     that seq; version > 0 or only_unread = 1 return only conversations
//     with unread messages, their recents starting after readed_to_msg_seq;
//     page (from 1) and page_size (default 100, at most 500) page the
//     result. Unlike WuKongIM, msg_count 0 still lists the conversations
//     (with empty recents).
//   - /conversations/setUnread: a negative unread is a 400 naming it
//     (not clamped to 0 silently).
//   - /varz follows WuKongIM's Varz: server_id is a string, uptime a
//     duration like "1d2h3m4s" (uptime_seconds added); in_msgs/out_msgs
//     count client frames; deferred, deferred_high and overloaded, and
//     with Config.QueueStats loop_queues, disk_queue and timer_queue, are
//     Jindou's. /connz follows WuKongIM's ConnInfo: uptime and
//     idle are such durations, the default limit is 20, "now" is added;
//     pending_bytes is 0 (the core reports pending_recvs, RECVs awaiting
//     RECVACK, not output bytes).
//   - /readyz answers {"status":"ready"} or 503 {"status":"not
//     ready","reason":"..."}; /healthz and /health answer {"status":"ok"}.
//     These three probes need no manager token; every other route does.
//
// Imports: the standard library, echo, client_golang, node's command
// types and web (the pages' embedded files). The core never imports this
// package.
package http
