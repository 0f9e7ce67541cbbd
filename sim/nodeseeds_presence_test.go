package sim_test

import (
	"time"

	"github.com/jindou-im/jindou/node"
)

// Presence in a cluster's quiet phase: a slot leader learns where a
// connection is within node.PresenceBound of its login or of the links'
// healing. The last messages of the quiet phase go out once every user
// has been online that long, so each must reach every subscriber
// (finalsDelivered): a delivery that skips a node holding a recipient
// fails the seed.

// awaitPresence runs until every online user has been online, and the
// links healed, for node.PresenceBound (a cluster's only).
func (sw *seedWorld) awaitPresence(deadline time.Duration) {
	if !sw.cluster() {
		return
	}
	due := sw.quietAt
	for _, u := range sw.users {
		if u.onlineAt >= 0 {
			due = max(due, u.onlineAt)
		}
	}
	due += node.PresenceBound
	sw.runUntil(deadline, func() bool { return sw.Now() >= due }, "every user online for the presence bound")
}
