// Package lint holds the rules that keep Jindou's core deterministic, as
// ordinary Go tests: no goroutines, clocks, sockets, files, global
// randomness or multi-case selects in node/ and everything of this module
// it imports, and an import graph that only points the right way (node/
// never imports the simulator, the checkers, the HTTP layer or the
// production runtime; sim/ never imports node/).
//
// Imports: the standard library only (go/ast, go/parser, and `go list` run
// as a command by the tests).
package lint
