package linearize_test

import (
	"fmt"
	"time"

	"github.com/jindou-im/jindou/linearize"
)

// A simulated client records each operation around the request it makes;
// the seed runner adds what it read from the cluster at the end and checks.
func ExampleRecorder() {
	ms := time.Millisecond
	r := linearize.NewRecorder()

	// Client "alice#1" sends over its connection; the SENDACK comes back.
	op := r.CallSend(1*ms, "alice#1", linearize.Send{Channel: "2:g", FromUID: "alice", ClientMsgNo: "a-1", Conn: "conn-1"})
	r.SendOK(op, 4*ms, 7001, 1)

	// Its next send times out: the outcome is unknown. The Recorder moves
	// the client to a fresh porcupine client id by itself.
	op = r.CallSend(5*ms, "alice#1", linearize.Send{Channel: "2:g", FromUID: "alice", ClientMsgNo: "a-2", Conn: "conn-1"})
	r.Unknown(op, 50*ms)

	// Bob syncs up from seq 1 and reads the max seq over HTTP.
	op = r.CallSync(60*ms, "bob#1", linearize.SyncRequest{Channel: "2:g", Start: 1, Mode: linearize.Up, Limit: 50})
	r.SyncOK(op, 62*ms, []linearize.Message{
		{Seq: 1, MessageID: 7001, FromUID: "alice", ClientMsgNo: "a-1"},
		{Seq: 2, MessageID: 7002, FromUID: "alice", ClientMsgNo: "a-2"},
	})
	op = r.CallMaxSeq(63*ms, "bob#1", "2:g")
	r.MaxSeqOK(op, 64*ms, 2)

	// Bob's connection was online throughout and got both RECVs.
	r.Subscribed("conn-2", "2:g", 0, linearize.Forever)
	r.Received(5*ms, "conn-2", "2:g", linearize.Message{Seq: 1, MessageID: 7001, FromUID: "alice", ClientMsgNo: "a-1"})
	r.Received(20*ms, "conn-2", "2:g", linearize.Message{Seq: 2, MessageID: 7002, FromUID: "alice", ClientMsgNo: "a-2"})

	// A node restarted at 30 ms; right after, the channel read back through
	// the cluster held what had been acknowledged.
	r.Restarted(30*ms, "n2", linearize.ChannelLog{Channel: "2:g", Messages: []linearize.Message{
		{Seq: 1, MessageID: 7001, FromUID: "alice", ClientMsgNo: "a-1"},
	}})

	// At the end of the run: the channel's log from the final replicated state.
	r.FinalLog("2:g", []linearize.Message{
		{Seq: 1, MessageID: 7001, FromUID: "alice", ClientMsgNo: "a-1"},
		{Seq: 2, MessageID: 7002, FromUID: "alice", ClientMsgNo: "a-2"},
	})

	rep := r.Check(linearize.Options{DeliveryBound: time.Second, Name: "seed-1"})
	fmt.Println(rep.OK, rep.Linearizable, rep.Acked, rep.UnknownPresent, len(rep.Violations))
	// Output: true Ok 1 1 0
}
