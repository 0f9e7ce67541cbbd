// Package http serves Jindou's HTTP API (WuKongIM v2-compatible routes,
// shared/API.md) with github.com/labstack/echo/v4, translating each request
// into a typed command for the core and its completion into the response.
//
// Status: not built yet (issue "Production").
//
// Imports: the standard library, echo, package runtime and node's command
// types. The core never imports this package.
package http
