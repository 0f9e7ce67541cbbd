// Package web holds the browser pages `jindou run` serves on its HTTP port:
// the chat demo (/demo, demo/) and the admin page (/web, admin/). The demo
// is written against the official WuKongIM JS SDK (wukongimjssdk, pinned in
// package.json); build.sh (make web) bundles demo/app.js with esbuild into
// dist/demo.js, which is embedded at go build time, so the binary needs no
// CDN and no files beside it. The admin page is plain JavaScript over the
// HTTP API and needs no bundling.
//
// Bundled reports whether dist/demo.js was built; without it /demo answers
// 503 saying to run make web.
//
// Imports: the standard library only. package http serves these files.
package web
