package sim_test

import (
	"testing"

	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/node/state"
	"github.com/jindou-im/jindou/sim/world"
)

// The sync_once queue and message events are replicated state: they
// survive a crash of a node and of a cluster's leaders, and any node
// answers them.

func pullCMNs(t *testing.T, n *world.Node, uid string) []string {
	t.Helper()
	var out []string
	for _, m := range n.MustCall(node.SyncOncePull{UID: uid}).([]*node.Message) {
		out = append(out, m.ClientMsgNo)
	}
	return out
}

func sendSyncOnce(t *testing.T, n *world.Node, ch node.ChannelKey, cmn string) {
	t.Helper()
	n.MustCall(node.SendMessage{FromUID: "s", Channel: ch, ClientMsgNo: cmn, Header: node.Header{SyncOnce: true}, Payload: []byte(cmn)})
}

func TestTheSyncOnceQueueAndEventsSurviveACrash(t *testing.T) {
	w := world.New(t, 1331)
	n := w.AddNode(1, node.Config{Slots: 8})
	g := node.ChannelKey{Type: proto.ChannelGroup, ID: "sq"}
	n.MustCall(node.ChannelUpsert{Channel: g, Subscribers: []string{"s", "r"}})
	sendSyncOnce(t, n, g, "a")
	sendSyncOnce(t, n, node.ChannelKey{Type: proto.ChannelPerson, ID: "r"}, "b")
	n.MustCall(node.EventAppend{Channel: g, ClientMsgNo: "m", EventID: "1", EventType: state.EventStreamDelta, Payload: []byte(`{"kind":"text","delta":"par"}`)})
	n.MustCall(node.EventAppend{Channel: g, ClientMsgNo: "m", EventID: "2", EventType: state.EventStreamDelta, Payload: []byte(`{"kind":"text","delta":"tial"}`)})
	if got := pullCMNs(t, n, "r"); len(got) != 2 {
		t.Fatalf("r's queue: %v", got)
	}
	n.Crash(0)
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	// The node forgot the pull in the crash: the ack drops nothing.
	n.MustCall(node.SyncOnceAck{UID: "r", LastMessageSeq: 1})
	if got := pullCMNs(t, n, "r"); len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Fatalf("r's queue after the crash: %v", got)
	}
	n.MustCall(node.SyncOnceAck{UID: "r", LastMessageSeq: 1})
	if got := pullCMNs(t, n, "r"); len(got) != 0 {
		t.Fatalf("after the ack: %v", got)
	}
	reply := n.MustCall(node.EventSync{Channel: g, ClientMsgNo: "m"}).(node.EventSyncReply)
	if len(reply.Events) != 1 || string(reply.Events[0].Payload) != `{"kind":"text","text":"partial"}` || reply.Events[0].Seq != 2 {
		t.Fatalf("events after the crash: %+v", reply.Events)
	}
}

func TestAnyNodeOfAClusterServesTheQueueAndEventsAcrossALeaderCrash(t *testing.T) {
	w := world.New(t, 1332)
	nodes := w.AddCluster(3, clusterConfig(4))
	g := node.ChannelKey{Type: proto.ChannelGroup, ID: "sq"}
	nodes[0].MustCall(node.ChannelUpsert{Channel: g, Subscribers: []string{"s", "r"}})
	sendSyncOnce(t, nodes[0], g, "a")
	nodes[1].MustCall(node.EventAppend{Channel: g, ClientMsgNo: "m", EventID: "1", EventType: state.EventStreamDelta, Payload: []byte(`{"kind":"text","delta":"x"}`)})
	nodes[2].MustCall(node.EventAppend{Channel: g, ClientMsgNo: "m", EventID: "2", EventType: state.EventStreamClose})
	nodes[0].Crash(100)
	for _, n := range nodes[1:] {
		if got := pullCMNs(t, n, "r"); len(got) != 1 || got[0] != "a" {
			t.Fatalf("node %d: r's queue %v", n.ID(), got)
		}
		reply := n.MustCall(node.EventSync{Channel: g, ClientMsgNo: "m"}).(node.EventSyncReply)
		if len(reply.Events) != 1 || reply.Events[0].Status != state.EventClosed || reply.Events[0].Seq != 2 {
			t.Fatalf("node %d: events %+v", n.ID(), reply.Events)
		}
	}
	// The ack goes to the node that answered the pull.
	n := nodes[1]
	n.MustCall(node.SyncOnceAck{UID: "r", LastMessageSeq: 1})
	if err := nodes[0].Start(); err != nil {
		t.Fatal(err)
	}
	for _, other := range nodes {
		if got := pullCMNs(t, other, "r"); len(got) != 0 {
			t.Fatalf("node %d after the ack: %v", other.ID(), got)
		}
	}
}
