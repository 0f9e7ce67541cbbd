package sim_test

import (
	"testing"

	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/sim/world"
)

// Behaviours where WuKongIM's clients and back ends expect what WuKongIM
// does (issue 13's defects).

func TestStreamNoIsStoredAndDeliveredInWuKongIMsLayout(t *testing.T) {
	w := world.New(t, 1301)
	n := w.AddNode(1, node.Config{})
	alice := w.Connect(w.NewClient(world.ClientSpec{UID: "alice", Device: "1", Version: 4}))
	bob := w.Connect(w.NewClient(world.ClientSpec{UID: "bob", Device: "1", Version: 4}))
	bIn := watch(bob)
	alice.SendPacket(&proto.Send{Setting: proto.SettingStream, StreamNo: "stream-7", ClientMsgNo: "c1",
		ChannelID: "bob", ChannelType: proto.ChannelPerson}, []byte("chunk"), nil)
	w.Until("delivered", func() bool { return len(bIn.recvs) == 1 })
	r := bIn.recvs[0]
	if r.StreamNo != "stream-7" || r.StreamID != uint64(r.MessageID) || bIn.plain[0] != "chunk" {
		t.Fatalf("RECV stream_no %q stream_id %d (message id %d), payload %q", r.StreamNo, r.StreamID, r.MessageID, bIn.plain[0])
	}
	msgs := syncAll(t, n, "bob", node.ChannelKey{Type: proto.ChannelPerson, ID: "alice"})
	if len(msgs) != 1 || msgs[0].StreamNo != "stream-7" {
		t.Fatalf("stored %+v, want one message with stream_no stream-7", msgs)
	}
}
