package sim_test

import (
	"fmt"
	"testing"

	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/sim/world"
)

// BenchmarkAckedPersonSends measures the core's cost per acknowledged,
// delivered person message (wall time of the whole simulated node: gateway,
// raft, Pebble, delivery; the simulator's own share is small). 50 clients
// keep up to 16 sends each in flight to a peer.
func BenchmarkAckedPersonSends(b *testing.B) {
	w := world.New(b, 1)
	w.AddNode(1, node.Config{})
	const n = 50
	clients := make([]*world.Client, n)
	for i := range clients {
		clients[i] = w.Connected(fmt.Sprintf("u%d", i), "1")
	}
	acked, sent := 0, 0
	payload := []byte("a benchmark message of a typical chat length, with some 中文 text")
	for i, c := range clients {
		peer := fmt.Sprintf("u%d", (i+1)%n)
		c.OnSendack = func(*world.Sent, *proto.Sendack) {
			acked++
			if sent < b.N {
				sent++
				c.Send(peer, proto.ChannelPerson, fmt.Sprint("m", sent), payload, 0, nil)
			}
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i, c := range clients {
		for range 16 {
			if sent < b.N {
				sent++
				c.Send(fmt.Sprintf("u%d", (i+1)%n), proto.ChannelPerson, fmt.Sprint("m", sent), payload, 0, nil)
			}
		}
	}
	w.Until("acks", func() bool { return acked >= b.N })
}
