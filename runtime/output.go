package runtime

import "errors"

// The output budget, shared by both runtimes (the reactor and the
// simulator) so that the simulated world cuts a client that stops reading
// as production does. What a connection's client has not taken (beyond its
// socket buffer) is what it owes; each connection may owe PerConn, all
// connections of a node together Total. Past the total, a connection whose
// debt grows is cut if it owes a quarter of its own cap or more: readers
// that keep up owe nothing, so the slowest pay and nobody else slows.

// OutputBudget is the two caps, in bytes.
type OutputBudget struct {
	PerConn int
	Total   int64
}

// The budget's defaults: 1 MiB holds thousands of RECVs of ordinary
// messages, room for a client on a slow link to catch up, while one that
// reads nothing is cut rather than let grow (the core's resend budget
// usually cuts it first); 64 MiB bounds all of them together.
const (
	DefaultMaxPendingOutput      = 1 << 20
	DefaultMaxTotalPendingOutput = 64 << 20
)

// Errors of a ConnClosed for a connection the runtime cut for its output.
var (
	// ErrSlowReader: the connection owed more than OutputBudget.PerConn.
	ErrSlowReader = errors.New("slow reader: pending output over the connection's limit")
	// ErrOutputBudget: the node's connections together owed more than
	// OutputBudget.Total, and this one a large share.
	ErrOutputBudget = errors.New("slow reader: the output budget of all connections is spent")
)

// WithDefaults fills the caps left at zero or below.
func (b OutputBudget) WithDefaults() OutputBudget {
	if b.PerConn <= 0 {
		b.PerConn = DefaultMaxPendingOutput
	}
	if b.Total <= 0 {
		b.Total = DefaultMaxTotalPendingOutput
	}
	return b
}

// Verdict says whether a connection whose debt just grew to owed bytes,
// the node's to total, must be cut: nil, ErrSlowReader or ErrOutputBudget.
func (b OutputBudget) Verdict(owed int, total int64) error {
	switch {
	case owed > b.PerConn:
		return ErrSlowReader
	case total > b.Total && owed >= b.PerConn/4:
		return ErrOutputBudget
	}
	return nil
}
