package state

import (
	"reflect"
	"testing"

	"pgregory.net/rapid"
)

func (m *memFSM) event(cmn, key, id, typ, payload string) {
	m.f.apply(&Command{Op: OpEvent, Ch: testGroup, Event: &EventCmd{ClientMsgNo: cmn, EventID: id,
		EventKey: key, EventType: typ, OccurredAt: 7, Payload: []byte(payload)}})
}

func TestTextDeltasAccumulateIntoTheKeysSnapshotInSeqOrder(t *testing.T) {
	m := newMemFSM(t, openMemDB(t), 0, 0)
	defer m.close()
	m.event("m1", "main", "e1", EventStreamDelta, `{"kind":"text","delta":"Hel"}`)
	m.event("m1", "think", "e2", EventStreamDelta, `{"kind":"text","delta":"hmm"}`)
	m.event("m1", "main", "e3", EventStreamDelta, `{"kind":"text","delta":"lo"}`)
	m.event("m1", "main", "e3", EventStreamDelta, `{"kind":"text","delta":"lo"}`) // a repeat
	m.event("m2", "main", "x1", EventStreamDelta, `{"kind":"text","delta":"other"}`)
	m.commit(t)
	mc := &Machine{slot: 0}
	evs := mc.MessageEvents(m.db, testGroup, "m1", 0, "")
	if len(evs) != 2 || evs[0].EventKey != "think" || evs[0].Seq != 2 || evs[1].EventKey != "main" || evs[1].Seq != 3 {
		t.Fatalf("events of m1: %+v, want think at 2 then main at 3", evs)
	}
	if got := string(evs[1].Payload); got != `{"kind":"text","text":"Hello"}` || evs[1].Status != EventOpen {
		t.Fatalf("main's projection: %s (%s)", got, evs[1].Status)
	}
	if evs := mc.MessageEvents(m.db, testGroup, "m1", 2, ""); len(evs) != 1 || evs[0].EventKey != "main" {
		t.Fatalf("events past seq 2: %+v", evs)
	}
	if evs := mc.MessageEvents(m.db, testGroup, "m1", 0, "think"); len(evs) != 1 || evs[0].EventKey != "think" {
		t.Fatalf("events of key think: %+v", evs)
	}
	if evs := mc.MessageEvents(m.db, testGroup, "m2", 0, ""); len(evs) != 1 || evs[0].Seq != 1 {
		t.Fatalf("m2 has its own seqs: %+v", evs)
	}
}

func TestATerminalEventEndsTheKey(t *testing.T) {
	m := newMemFSM(t, openMemDB(t), 0, 0)
	defer m.close()
	m.event("m1", "main", "e1", EventStreamDelta, `{"kind":"text","delta":"Hi"}`)
	m.event("m1", "main", "e2", EventStreamClose, `{"end_reason":"2"}`)
	m.event("m1", "main", "e3", EventStreamDelta, `{"kind":"text","delta":" late"}`)
	m.event("m1", "other", "e4", EventStreamError, `{"error":"boom"}`)
	m.commit(t)
	mc := &Machine{slot: 0}
	seq, ev, ok := mc.AppendedEvent(m.db, testGroup, "m1", "main", "e3")
	if !ok || seq != 0 || ev.Status != EventClosed || ev.Seq != 2 || string(ev.Payload) != `{"kind":"text","text":"Hi"}` {
		t.Fatalf("a delta after close: seq %d, %+v (%s)", seq, ev, ev.Payload)
	}
	_, ev, _ = mc.AppendedEvent(m.db, testGroup, "m1", "other", "e4")
	if ev.Status != EventError || string(ev.Payload) != `{"end_reason":0,"error":"boom","status":"error"}` {
		t.Fatalf("an error without a snapshot: %+v (%s)", ev, ev.Payload)
	}
	if seq, _, _ := mc.AppendedEvent(m.db, testGroup, "m1", "other", "e4"); seq != 3 {
		t.Fatalf("e4's seq %d, want 3 (e3 took none)", seq)
	}
}

func TestASnapshotPastItsBoundEndsTheKeyWithAnError(t *testing.T) {
	m := newMemFSM(t, openMemDB(t), 0, 0)
	defer m.close()
	big := make([]byte, maxEventSnapshot)
	for i := range big {
		big[i] = 'x'
	}
	m.event("m1", "main", "e1", EventStreamDelta, string(big))
	m.event("m1", "main", "e2", EventStreamDelta, "y")
	m.commit(t)
	_, ev, _ := (&Machine{slot: 0}).AppendedEvent(m.db, testGroup, "m1", "main", "e2")
	if ev.Status != EventError || len(ev.Payload) != maxEventSnapshot {
		t.Fatalf("status %s, snapshot of %d bytes", ev.Status, len(ev.Payload))
	}
}

func TestEventCommandsRoundTripThroughTheBinaryEncoding(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := genCommand(t)
		c.Event = &EventCmd{ClientMsgNo: rapid.String().Draw(t, "ecmn"), EventID: rapid.String().Draw(t, "eid"),
			EventKey: rapid.String().Draw(t, "ekey"), EventType: rapid.String().Draw(t, "etype"),
			Visibility: rapid.String().Draw(t, "vis"), OccurredAt: rapid.Int64().Draw(t, "occ"), Payload: genPayload(t, "epayload")}
		got, err := ParseCommand(EncodeCommand(c))
		if err != nil || !reflect.DeepEqual(got, c) {
			t.Fatalf("round trip of %+v: %+v, %v", c, got, err)
		}
	})
}
