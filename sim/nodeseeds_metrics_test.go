package sim_test

import (
	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/runtime"
)

// checkDeliveryFigures holds node id's delivery counters (one reading of
// node.Stats) to what they mean: every RECVACK counted was of a RECV
// counted as written, and each was timed once.
func (sw *seedWorld) checkDeliveryFigures(id runtime.NodeID, s node.StatsReply) {
	if s.RecvAcks > s.RecvsSent {
		sw.fail("node %d counts %d RECVACKs of %d RECVs written", id, s.RecvAcks, s.RecvsSent)
	}
	if n := s.RecvAckLatency.Count(); n != s.RecvAcks {
		sw.fail("node %d timed %d RECVACKs of the %d it counts", id, n, s.RecvAcks)
	}
}
