package node

import (
	"reflect"
	"strconv"
	"testing"

	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/node/state"
	"github.com/jindou-im/jindou/runtime"
)

func TestSyncAndEventQueriesAndResultsCrossNodes(t *testing.T) {
	reply := replyTo{addr: addr{Node: 3, Loop: "api", Inc: 7}, Req: 5}
	ch := state.ChannelKey{Type: proto.ChannelGroup, ID: "g1"}
	ev := state.MessageEvent{Seq: 3, EventID: "e", EventKey: "main", EventType: state.EventStreamDelta,
		Visibility: "public", OccurredAt: 9, Payload: []byte(`{"kind":"text"}`), Status: state.EventOpen}
	for _, m := range []runtime.Msg{
		slotRead{Slot: 1, Reply: reply, Query: querySyncQueue{UID: "u", Limit: 200}},
		slotRead{Slot: 1, Reply: reply, Query: queryEvents{Ch: ch, ClientMsgNo: "c", From: 4, Key: "main"}},
		slotRead{Slot: 1, Reply: reply, Query: queryAppendedEvent{Ch: ch, ClientMsgNo: "c", Key: "main", ID: "e"}},
		readDone{Reply: reply, Result: eventsResult{ev, ev}},
		readDone{Reply: reply, Result: eventsResult{}},
		readDone{Reply: reply, Result: appendedResult{Seq: 3, Event: ev, OK: true}},
		slotPropose{Slot: 1, Reply: reply, Cmd: &state.Command{Op: state.OpEvent, Ch: ch,
			Event: &state.EventCmd{ClientMsgNo: "c", EventID: "e", EventKey: "main", EventType: "stream.delta", Payload: []byte("p")}}},
	} {
		got, err := decodePeer(encodePeer(m))
		if err != nil || !reflect.DeepEqual(got, m) {
			t.Fatalf("%T round trip: %#v, %v", m, got, err)
		}
	}
}

func TestSyncMarksForgetTheOldestUserPastTheirBound(t *testing.T) {
	s := &syncMarks{byUID: map[string][]syncMark{}}
	mark := []syncMark{{Seq: 1}}
	for i := range maxSyncMarks + 1 {
		s.set("u"+strconv.Itoa(i), mark)
	}
	if len(s.byUID) != maxSyncMarks || len(s.order) != maxSyncMarks {
		t.Fatalf("%d users remembered (%d in order), bound %d", len(s.byUID), len(s.order), maxSyncMarks)
	}
	if s.take("u0") != nil {
		t.Fatal("the oldest user's marks survived the bound")
	}
	last := "u" + strconv.Itoa(maxSyncMarks)
	if s.take(last) == nil || s.take(last) != nil {
		t.Fatal("take must return the newest user's marks once")
	}
}
