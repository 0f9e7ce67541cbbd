package runtime

// Event is one thing that happens to a loop. The concrete types below are
// the complete set; Handlers switch on them.
type Event interface {
	// Kind names the event in traces.
	Kind() string
}

// Posted is a message posted to the loop with Loop.Post.
type Posted struct{ Msg Msg }

// TimerFired is a timer armed with Loop.After going off.
type TimerFired struct{ Tag any }

// ConnOpened is a client connection accepted for this loop.
type ConnOpened struct{ Conn Conn }

// ConnData is bytes read from a client connection. Data is valid only during
// Handle; copy what must be kept.
type ConnData struct {
	Conn Conn
	Data []byte
}

// ConnClosed is a client connection gone, by either side. No event of that
// connection follows it.
type ConnClosed struct {
	Conn Conn
	// Err is nil for a close the process asked for.
	Err error
}

// PeerMsg is a message from another process, sent with Transport.Send.
// The handler owns Data.
type PeerMsg struct {
	From NodeID
	Data []byte
}

// DiskDone is the completion of a Disk.Commit. Err non-nil means the commit
// may or may not have become durable.
type DiskDone struct {
	Tag any
	Err error
}

// OutboundDone is the completion of an Outbound.Call: the answer's HTTP
// status and body, or Err when there was no answer (then Status is 0).
// The handler owns Body.
type OutboundDone struct {
	Tag    any
	Status int
	Body   []byte
	Err    error
}

func (Posted) Kind() string       { return "posted" }
func (TimerFired) Kind() string   { return "timer" }
func (ConnOpened) Kind() string   { return "conn-opened" }
func (ConnData) Kind() string     { return "conn-data" }
func (ConnClosed) Kind() string   { return "conn-closed" }
func (PeerMsg) Kind() string      { return "peer-msg" }
func (DiskDone) Kind() string     { return "disk-done" }
func (OutboundDone) Kind() string { return "outbound-done" }
