// Package lint holds the rules that keep Jindou's core deterministic and its
// shape intact, as ordinary Go tests:
//
//   - no goroutines, clocks, sockets, files, processes, signals, system
//     calls, unsafe, scheduler calls (runtime.Gosched and kin), global
//     randomness, logging but through the injected logger, dot-imports or
//     multi-case selects in node/ and everything of this module it imports;
//   - no range over a map whose order can reach output (maporder.go): a
//     loop over a map ranges over slices.Sorted(maps.Keys(m)), only
//     accumulates order-free results, or says why with
//     //lint:maporder order-free: <reason>;
//   - no function carried by a message between the core's loops (msgs.go);
//   - an import graph that only points the right way: node/ never imports
//     the simulator, the checkers, the HTTP layer or the production runtime;
//     the simulator's kernel (package sim) never imports node/; the
//     replicated state machine (node/state) is a leaf; production code
//     (cmd/, http/, runtime/reactor/) imports no test package.
//
// Each rule is tested on planted violations (testdata/).
//
// Imports: the standard library only (go/ast, go/parser, go/types with the
// compiler's export data, and `go list` run as a command by the tests).
package lint
