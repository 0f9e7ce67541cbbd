package sim_test

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/jindou-im/jindou/linearize"
	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/runtime"
	"github.com/jindou-im/jindou/sim/world"
)

// The checks of a node seed: its quiet phase, the store read back against
// what clients saw, the reads over the API during the run, and the
// history's linearizability check.

// quietPhase heals everything, lets everyone reconnect and settle, sends a
// last message to every channel, and checks.
func (sw *seedWorld) quietPhase() {
	sw.quiet, sw.quietAt = true, sw.Now()
	sw.checkDiskRecovery()
	sw.HealAll()
	for _, n := range sw.nodes {
		if n.Up() {
			continue
		}
		if err := n.Start(); err != nil {
			sw.fail("quiet phase: %v", err)
			return
		}
		sw.afterRestart(n.ID())
	}
	deadline := max(sw.Now(), sw.probeDue()) + nodeLiveness
	settled := func() bool {
		for _, u := range sw.users {
			if !u.c.Ready || u.c.Inflight() > 0 {
				return false
			}
			for _, rec := range u.sends {
				if !rec.acked && !rec.refused {
					return false
				}
			}
		}
		return sw.apiSettled() && sw.probeDone() && !sw.admin.busy && len(sw.admin.queue) == 0
	}
	sw.runUntil(deadline, settled, "every user connected with every send acknowledged or refused, the API's sends, the dedupe probe and the workload steps answered")
	sw.awaitPresence(deadline)
	sw.apiQuietSends()
	for _, u := range sw.users {
		if u.c.Ready {
			for _, t := range u.targets {
				u.send(t, true)
			}
		}
	}
	sw.runUntil(deadline, func() bool { return settled() && sw.finalsDelivered() }, "every last message acknowledged and delivered")
	sw.checkSyncQueue(deadline)
	sw.nodeCoverage()
	sw.adminUnanswered()
	if sw.cluster() {
		sw.checkReplicas()
	}
	sw.checkStore()
	sw.checkWebhooks(deadline)
}

func (sw *seedWorld) runUntil(deadline time.Duration, cond func() bool, what string) {
	switch err := sw.Await(deadline-sw.Now(), 10*time.Millisecond, cond); {
	case world.IsTimeout(err):
		sw.fail("quiet phase: not settled by %v: %s", deadline, what)
	case err != nil:
		sw.fail("quiet phase: %v", err)
	}
}

// finalsDelivered: every user received every last message of its channels.
func (sw *seedWorld) finalsDelivered() bool {
	for _, u := range sw.users {
		for _, cmn := range u.order {
			rec := u.sends[cmn]
			if !rec.final || !rec.acked {
				continue
			}
			for _, uid := range sw.members[rec.t.key] {
				if uid == u.uid {
					continue
				}
				if _, ok := sw.userByUID(uid).got[rec.t.key][rec.seq]; !ok {
					return false
				}
			}
		}
	}
	return true
}

func (sw *seedWorld) userByUID(uid string) *seedUser {
	var i int
	fmt.Sscanf(uid, "u%d", &i)
	return sw.users[i]
}

// checkStore reads every channel back and checks it against what clients
// saw.
func (sw *seedWorld) checkStore() {
	stored := map[node.ChannelKey][]*node.Message{}
	for _, ch := range sw.channels {
		login := sw.members[ch][0]
		msgs, err := sw.syncAll(login, ch)
		if err != nil {
			sw.fail("reading %s: %v", ch, err)
			return
		}
		stored[ch] = msgs
		seen := map[string]uint64{}
		for i, m := range msgs {
			if m.Seq != uint64(i+1) {
				sw.fail("%s: seq %d at position %d (gap or reuse)", ch, m.Seq, i+1)
				break
			}
			k := m.FromUID + "\x00" + m.ClientMsgNo
			if prev, dup := seen[k]; dup && m.ClientMsgNo != "" {
				sw.fail("%s: client_msg_no %s of %s stored twice (seqs %d and %d)", ch, m.ClientMsgNo, m.FromUID, prev, m.Seq)
			}
			seen[k] = m.Seq
		}
	}
	for _, u := range sw.users {
		for _, cmn := range u.order {
			rec := u.sends[cmn]
			msgs := stored[rec.t.key]
			if !rec.acked {
				continue
			}
			if rec.seq == 0 || rec.seq > uint64(len(msgs)) {
				sw.fail("%s: acknowledged %s (seq %d id %d) missing: the log ends at %d", rec.t.key, cmn, rec.seq, rec.id, len(msgs))
				continue
			}
			if m := msgs[rec.seq-1]; m.MessageID != rec.id || m.ClientMsgNo != cmn || string(m.Payload) != rec.payload {
				sw.fail("%s: acknowledged %s as seq %d id %d; stored there: %s from %s id %d", rec.t.key, cmn, rec.seq, rec.id, m.ClientMsgNo, m.FromUID, m.MessageID)
			}
		}
		for ch, got := range u.got {
			msgs := stored[ch]
			for _, seq := range slices.Sorted(maps.Keys(got)) {
				if seq == 0 || seq > uint64(len(msgs)) || msgs[seq-1].MessageID != got[seq] {
					sw.fail("%s received %s seq %d id %d, not what is stored", u.uid, ch, seq, got[seq])
				}
			}
		}
	}
	for _, u := range sw.users {
		for _, cmn := range u.order {
			if rec := u.sends[cmn]; !rec.acked && !rec.refused {
				sw.res.unknown++
			}
		}
	}
	sw.checkHistory(stored)
}

// syncAll reads a channel's whole log through a random up node, retrying
// cluster-transient errors.
func (sw *seedWorld) syncAll(login string, ch node.ChannelKey) ([]*node.Message, error) {
	for range setupAttempts - 1 {
		n := sw.api()
		if n == nil {
			break
		}
		msgs, err := n.SyncAll(login, ch)
		if !transient(err) {
			return msgs, err
		}
		if err := sw.Sim.RunFor(retryDelay); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("no node answered in %d attempts", setupAttempts)
}

// readAfterRestart reads every channel right after node id restarted,
// through it, so that the checker verifies then (not only at the end) that
// acknowledged sends survived. A read a cluster cannot answer yet is asked
// again (its log is still checked as of the restart), through another
// node if id crashed again.
func (sw *seedWorld) readAfterRestart(id runtime.NodeID) {
	at := sw.Now()
	logs := make([]linearize.ChannelLog, len(sw.channels))
	left := len(sw.channels)
	var read func(i, attempts int)
	read = func(i, attempts int) {
		ch := sw.channels[i]
		n := sw.Node(id)
		if !n.Up() {
			n = sw.api()
		}
		if n == nil {
			return
		}
		n.ReadLog(sw.members[ch][0], ch, func(msgs []*node.Message, err error) {
			if transient(err) && attempts < setupAttempts {
				sw.Sim.After(retryDelay, "read-after-restart", func() { read(i, attempts+1) })
				return
			}
			if err != nil {
				sw.fail("reading %s: %v", ch, err)
				return
			}
			logs[i] = linearize.ChannelLog{Channel: ch.String(), Messages: world.HistoryMessages(msgs)}
			if left--; left == 0 {
				sw.History.Restarted(at, fmt.Sprintf("n%d", id), logs...)
			}
		})
	}
	for i := range sw.channels {
		read(i, 1)
	}
}

// checkHistory hands the final logs to the recorder and runs the
// linearizability check and the invariants.
func (sw *seedWorld) checkHistory(stored map[node.ChannelKey][]*node.Message) {
	for _, u := range sw.users {
		u.offline(linearize.Forever)
	}
	for _, ch := range sw.channels {
		sw.History.FinalLog(ch.String(), world.HistoryMessages(stored[ch]))
	}
	dir := filepath.Join(os.TempDir(), "jindou-porcupine")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		sw.fail("visualization directory: %v", err)
	}
	rep := sw.History.Check(linearize.Options{Timeout: 30 * time.Second, DeliveryBound: deliveryBound, VisualizeDir: dir, Name: fmt.Sprintf("seed-%d", sw.Sim.Seed())})
	sw.res.report = rep
	if !rep.OK {
		sw.fail("history check: %s", rep)
	}
	// The permission model, the kicks, the more flags and the
	// conversation views.
	for _, v := range append(sw.History.CheckRules(), sw.History.CheckViews()...) {
		sw.fail("history check: %s", v)
	}
}
