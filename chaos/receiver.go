package chaos

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// The fault classes of the webhook receiver.
const (
	ReceiverDown  Class = "receiver-down"  // refuses connections
	ReceiverError Class = "receiver-error" // answers 500
	ReceiverSlow  Class = "receiver-slow"  // answers after the node's timeout (it kept the POST)
)

// ReceiverClasses are the receiver's fault classes, in the order
// DrawReceiver cycles through them.
var ReceiverClasses = []Class{ReceiverDown, ReceiverError, ReceiverSlow}

// Receiver puts the webhook receiver in Mode ("down", "error" or "slow")
// from At for For, then back up.
type Receiver struct {
	At, For time.Duration
	Mode    string
}

func (r Receiver) String() string {
	return fmt.Sprintf("receiver at=%v for=%v %s", r.At, r.For, r.Mode)
}

func (r Receiver) Class() Class {
	switch r.Mode {
	case "down":
		return ReceiverDown
	case "error":
		return ReceiverError
	}
	return ReceiverSlow
}

// receiverModes are the modes in ReceiverClasses' order.
var receiverModes = []string{"down", "error", "slow"}

// DrawReceiver draws the receiver's outages within cfg.Duration: three or
// four, their modes cycling from a drawn one so that every mode happens in
// every run that has a receiver.
func DrawReceiver(r *rand.Rand, cfg PlanConfig) Plan {
	n := 3 + r.IntN(2)
	first := r.IntN(len(receiverModes))
	var p Plan
	for i := range n {
		length := time.Duration(50+r.IntN(2000)) * time.Millisecond
		at := time.Duration(r.Int64N(int64(max(cfg.Duration-length, 1))))
		p = append(p, Receiver{At: at, For: length, Mode: receiverModes[(first+i)%len(receiverModes)]})
	}
	return p
}
