// Package toy is a small counter service that exercises every part of the
// runtime interfaces, so that the simulator can be tested without the real
// node: clients add numbers over a line protocol and get the durable total
// back once the addition is synced; a periodic timer gossips the total to
// the other nodes; a restart recovers the total from the log on disk.
//
// Imports: the standard library, package runtime and Pebble's vfs. It is
// test support for package sim and must stay free of clocks, goroutines and
// sockets of its own, like the real core.
package toy
