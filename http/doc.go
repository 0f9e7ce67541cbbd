// Package http serves Jindou's HTTP API: WuKongIM v2's routes, field names
// and envelopes (shared/API.md), with github.com/labstack/echo/v4. Each
// request is decoded strictly enough to name a bad field, turned into a
// typed command of the core (node.Request), submitted to the node and
// answered once the node calls back, or with 503 after
// Config.RequestTimeout.
//
// See server.go for the seam with the binary (Config, New, Start, Stop,
// SetComponentsReady, Registry), routes.go for the API, ops.go for the
// operational routes and metrics.go for /metrics.
//
// Imports: the standard library, echo, client_golang and node's command
// types. The core never imports this package.
package http
