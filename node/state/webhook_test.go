package state

import (
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// applyAll applies cmds through a Machine in one batch and commits it.
func applyAll(t *testing.T, db *pebble.DB, m *Machine, cmds ...*Command) []Result {
	t.Helper()
	b := db.NewIndexedBatch()
	var out []Result
	for _, c := range cmds {
		out = append(out, m.Apply(b, c))
	}
	m.FinishBatch(b)
	if err := b.Commit(pebble.NoSync); err != nil {
		t.Fatal(err)
	}
	return out
}

func sendCmd(ch ChannelKey, from, cmn string, atMs int64) *Command {
	return &Command{Op: OpSend, AtMs: atMs, Ch: ch, Send: &SendCmd{From: from, ClientMsgNo: cmn, Payload: []byte(cmn)}}
}

func TestOutboxHoldsStoredMessagesInLogOrderUntilAcked(t *testing.T) {
	db := openMemDB(t)
	defer db.Close()
	m := NewMachine(3, time.Hour)
	m.EnableOutbox()
	at := int64(MessageIDEpochMs + 1000)
	res := applyAll(t, db, m,
		sendCmd(testGroup, "a", "1", at), sendCmd(testPerson, "u1", "1", at),
		sendCmd(testGroup, "b", "2", at+1), sendCmd(testGroup, "a", "1", at+2)) // the last repeats the first
	got := ReadOutbox(db, 3, 0, 10)
	if len(got) != 3 {
		t.Fatalf("outbox holds %d entries, want 3 (a duplicate adds none): %+v", len(got), got)
	}
	for i, e := range got {
		if e.ID != res[i].Msg.MessageID || e.Ch != res[i].Msg.Channel || e.Seq != res[i].Msg.Seq {
			t.Fatalf("entry %d is %+v, want message %+v", i, e, res[i].Msg)
		}
		if i > 0 && e.ID <= got[i-1].ID {
			t.Fatalf("entries out of id order: %+v", got)
		}
	}
	if n := CountOutbox(db, 3, got[0].ID); n != 2 {
		t.Fatalf("CountOutbox after the first = %d, want 2", n)
	}
	applyAll(t, db, m, &Command{Op: OpWebhookAck, Seq: uint64(got[1].ID)})
	left := ReadOutbox(db, 3, 0, 10)
	if len(left) != 1 || left[0].ID != got[2].ID {
		t.Fatalf("after the ack up to the second entry the outbox is %+v, want only %+v", left, got[2])
	}
	// A stale ack (a lower id, proposed before a leader change) deletes nothing more.
	applyAll(t, db, m, &Command{Op: OpWebhookAck, Seq: uint64(got[0].ID)})
	if n := CountOutbox(db, 3, 0); n != 1 {
		t.Fatalf("a stale ack changed the outbox: %d entries", n)
	}
}

func TestOutboxStaysEmptyWhenWebhooksAreOff(t *testing.T) {
	db := openMemDB(t)
	defer db.Close()
	m := NewMachine(1, time.Hour)
	applyAll(t, db, m, sendCmd(testGroup, "a", "1", MessageIDEpochMs+5))
	if n := CountOutbox(db, 1, 0); n != 0 {
		t.Fatalf("outbox has %d entries with webhooks off", n)
	}
}

func TestWebhookAckCommandRoundTrips(t *testing.T) {
	c := &Command{Op: OpWebhookAck, Seq: 1 << 40}
	got, err := ParseCommand(EncodeCommand(c))
	if err != nil || got.Op != OpWebhookAck || got.Seq != c.Seq {
		t.Fatalf("round trip = %+v, %v", got, err)
	}
}
