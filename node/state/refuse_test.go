package state

import (
	"testing"

	"github.com/jindou-im/jindou/node/proto"
)

func (m *memFSM) refuse(ch ChannelKey, from, cmn string, atMs int64, reason proto.ReasonCode) Result {
	cmd := RefuseCommand(ch, &SendCmd{From: from, ClientMsgNo: cmn}, atMs, reason)
	return m.f.apply(&cmd)
}

func TestARecordedRefusalAnswersEveryLaterAttemptAndStoresNothing(t *testing.T) {
	m := newMemFSM(t, openMemDB(t), 3, 1000)
	defer m.close()
	if r := m.refuse(testGroup, "u1", "c1", 5000, proto.ReasonBan); r.Refused != proto.ReasonBan || r.Msg != nil {
		t.Fatalf("the refusal: %+v", r)
	}
	m.commit(t)
	// A later attempt of the same send, decided allowed by its leader:
	// refused as the first was, nothing stored.
	if r := m.send(testGroup, "u1", "c1", 5500); r.Refused != proto.ReasonBan || r.Msg != nil {
		t.Fatalf("a later attempt after a recorded refusal: %+v", r)
	}
	if r := m.refuse(testGroup, "u1", "c1", 5600, proto.ReasonNotInWhitelist); r.Refused != proto.ReasonBan {
		t.Fatalf("a second refusal answers the first one's reason: %+v", r)
	}
	m.checkSeqsWithoutGaps(t, testGroup, 0)
	if msg, ok := (&Machine{slot: 3, dedupeWindowMs: 1000}).StoredSend(m.f.b, testGroup, "u1", "c1", 5700); ok {
		t.Fatalf("StoredSend finds %+v for a refused send", msg)
	}
	// Another client_msg_no is not refused by it; after the window the
	// same one is decided anew.
	if r := m.send(testGroup, "u1", "c2", 5700); r.Refused != 0 || r.Msg == nil || r.Msg.Seq != 1 {
		t.Fatalf("another send: %+v", r)
	}
	if r := m.send(testGroup, "u1", "c1", 6000); r.Refused != 0 || r.Msg == nil || r.Msg.Seq != 2 || !r.DedupeExpired {
		t.Fatalf("the same send after the window: %+v", r)
	}
}

func TestARefusalAfterTheSendWasStoredAnswersTheStoredMessage(t *testing.T) {
	m := newMemFSM(t, openMemDB(t), 3, 1000)
	defer m.close()
	first := m.send(testGroup, "u1", "c1", 5000)
	m.commit(t)
	r := m.refuse(testGroup, "u1", "c1", 5100, proto.ReasonBan)
	if r.Refused != 0 || !r.Duplicate || r.Msg == nil || r.Msg.Seq != first.Msg.Seq || r.Msg.MessageID != first.Msg.MessageID {
		t.Fatalf("a refusal of a stored send: %+v, want the stored %+v", r, first.Msg)
	}
	if m.f.b.Count() != 0 {
		t.Fatalf("the refusal of a stored send wrote %d records", m.f.b.Count())
	}
}

func TestDedupeRecordsWithoutARefusalReadAsBefore(t *testing.T) {
	stored := dedupeRecord{Seq: 7, MessageID: 42, AtMs: 99}
	old := []byte{recordFormat, 7, 84, 0xc6, 0x01} // seq 7, id 42, at 99 (zig-zag varints), as written before refusals
	var d dedupeRecord
	decode(old, &d)
	if d != stored {
		t.Fatalf("an old record decodes as %+v, want %+v", d, stored)
	}
	if got := encode(stored); string(got) != string(old) {
		t.Fatalf("a stored send's record encodes as %v, want %v", got, old)
	}
	refused := dedupeRecord{AtMs: 99, Refused: proto.ReasonBan}
	var back dedupeRecord
	decode(encode(refused), &back)
	if back != refused {
		t.Fatalf("a refused record round-trips as %+v, want %+v", back, refused)
	}
}
