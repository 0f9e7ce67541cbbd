package node

import (
	"testing"

	pb "go.etcd.io/raft/v3/raftpb"
)

func TestRaftMessagesCarryTheirSlotAndGarbageIsRefused(t *testing.T) {
	m := &pb.Message{Type: pb.MessageType_MsgHeartbeat.Enum(), To: new(uint64(2)), From: new(uint64(1)), Term: new(uint64(7))}
	slot, got, err := decodeRaftMsg(encodeRaftMsg(513, m))
	if err != nil || slot != 513 || got.GetTerm() != 7 || got.GetTo() != 2 {
		t.Fatalf("round trip: slot %d, %v, %v", slot, got, err)
	}
	for _, bad := range [][]byte{nil, {1}, {0, 1, 0xff, 0xff, 0xff}} {
		if _, _, err := decodeRaftMsg(bad); err == nil {
			t.Fatalf("%x decoded as a raft message", bad)
		}
	}
}
