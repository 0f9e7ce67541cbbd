package linearize

import (
	"fmt"
	"strings"
	"time"
)

// A Kind names the property a violation breaks.
type Kind string

const (
	// NotLinearizable: porcupine found no linearization of a channel's
	// operations against the append-only log model.
	NotLinearizable Kind = "not linearizable"
	// CheckTimedOut: porcupine did not finish within Options.Timeout. It
	// fails the check like NotLinearizable.
	CheckTimedOut Kind = "linearizability check timed out"
	// FinalLogMissing: a channel has operations but no final log.
	FinalLogMissing Kind = "final log missing"
	// TwoMessagesAtSeq: two different message ids were seen at one seq.
	TwoMessagesAtSeq Kind = "two messages at one seq"
	// MessageAtTwoSeqs: one message id was seen at two seqs (or in two
	// channels).
	MessageAtTwoSeqs Kind = "one message at two seqs"
	// DuplicateStored: a log holds one (from uid, client_msg_no) or one
	// message id at two seqs.
	DuplicateStored Kind = "stored twice"
	// Gap: a log's seqs are not 1..N.
	Gap Kind = "gap"
	// LostAcknowledged: an acknowledged send is not at its seq with its id
	// in the final log or in a log read right after a restart.
	LostAcknowledged Kind = "acknowledged send lost"
	// FailedButStored: a send answered as refused is in a log, a RECV or a
	// sync answer, and no send of its client_msg_no took effect.
	FailedButStored Kind = "failed send stored"
	// Phantom: a log, a RECV or a sync answer holds a message no recorded
	// send sent.
	Phantom Kind = "phantom message"
	// PushOutOfOrder: a connection got a RECV at a lower seq than one it
	// already got in that channel, and not as a resend of a RECV it got.
	PushOutOfOrder Kind = "push out of order"
	// NotDelivered: a message acknowledged while a subscriber connection
	// was online did not reach it within Options.DeliveryBound.
	NotDelivered Kind = "not delivered"
)

// A Violation is one broken property, in words: which channel and seq,
// which operations, what was expected and what was seen.
type Violation struct {
	Kind    Kind
	Channel string
	Seq     uint64 // 0 when the violation is not about one seq
	Detail  string
}

func (v Violation) String() string {
	if v.Seq != 0 {
		return fmt.Sprintf("%s: channel %s seq %d: %s", v.Kind, v.Channel, v.Seq, v.Detail)
	}
	return fmt.Sprintf("%s: channel %s: %s", v.Kind, v.Channel, v.Detail)
}

// A Report is the outcome of Check.
type Report struct {
	OK bool // no violation

	Ops      int // operations recorded
	Sends    int
	Acked    int // sends acknowledged
	Failed   int // sends refused
	Unknown  int // sends with an unknown outcome (or still pending)
	Syncs    int
	MaxSeqs  int
	Pushes   int // RECVs recorded
	Restarts int
	// UnknownPresent and UnknownAbsent split the unknown sends of checked
	// channels by whether the final log holds them.
	UnknownPresent, UnknownAbsent int
	Channels                      int // channels checked for linearizability

	Linearizable  string        // porcupine's verdict: "Ok", "Illegal" or "Unknown" (timed out)
	CheckDuration time.Duration // wall time porcupine took
	Violations    []Violation
	// Visualization is the path of porcupine's HTML visualization, written
	// when the check fails.
	Visualization string
}

// String renders the report as one paragraph; a failed one names its
// first violations.
func (r Report) String() string {
	var b strings.Builder
	verdict := "OK"
	if !r.OK {
		verdict = fmt.Sprintf("FAILED with %d violation(s)", len(r.Violations))
	}
	fmt.Fprintf(&b, "linearize: %s. %d ops over %d channels: %d sends (%d acked, %d failed, %d unknown: %d stored, %d not), %d syncs, %d max-seq reads; %d pushes, %d restarts. Porcupine: %s in %v.",
		verdict, r.Ops, r.Channels, r.Sends, r.Acked, r.Failed, r.Unknown, r.UnknownPresent, r.UnknownAbsent,
		r.Syncs, r.MaxSeqs, r.Pushes, r.Restarts, r.Linearizable, r.CheckDuration.Round(time.Microsecond))
	const shown = 5
	for i, v := range r.Violations {
		if i == shown {
			fmt.Fprintf(&b, " … and %d more.", len(r.Violations)-shown)
			break
		}
		fmt.Fprintf(&b, " [%d] %s.", i+1, v)
	}
	if r.Visualization != "" {
		fmt.Fprintf(&b, " Visualization: %s", r.Visualization)
	}
	return b.String()
}
