package node

import (
	"slices"
	"time"

	"go.etcd.io/raft/v3"
)

// Handing leaderships off before a graceful stop: every group this node
// leads is transferred to the voter that has the most of its log, so
// that clients see no election timeout when the node goes. The stop waits
// for it (at most HandOff.Within) and then goes anyway: a group with no
// other voter in reach keeps its leader until the stop.

// HandOff transfers every leadership of this node to another voter and
// answers once the node leads nothing (or Within has passed; default
// handOffDefault). Reply: HandOffReply.
type HandOff struct {
	Within time.Duration
}

// HandOffReply says how many groups this node still leads (0: all handed
// off) and how many transfers it asked raft for.
type HandOffReply struct {
	StillLed  int `json:"still_led"`
	Transfers int `json:"transfers"`
}

// handOffDefault is how long a graceful stop waits for its leaderships to
// move: a few election rounds.
const handOffDefault = 3 * time.Second

// handOffRound is how often the wait asks the slot loops again.
const handOffRound = 100 * time.Millisecond

// queryHandOff asks a slot loop to transfer the leaderships it holds (a
// Now request of every slot loop; it acts, it does not only read).
// Result: handOffResult.
type queryHandOff struct{}

type handOffResult struct{ led, transfers int }

func (queryHandOff) isSlotQuery()   {}
func (handOffResult) isReadResult() {}

// handOffNow tells a slot loop to hand its leaderships off (a graceful
// stop's drain).
type handOffNow struct{}

func (handOffNow) Kind() string { return "hand_off" }

// apiTimer is a timer of the API loop that resumes a continuation kept in
// apiLoop.timers.
type apiTimer struct{ id uint64 }

func (r HandOff) run(a *apiLoop, done func(any, error)) error {
	within := r.Within
	if within <= 0 {
		within = handOffDefault
	}
	deadline := a.n.env.Clock().Now() + within
	total := 0
	var round func()
	round = func() {
		a.gatherSlotLoops(queryHandOff{}, true, func(parts []readResult, err error) {
			if err != nil {
				done(nil, err)
				return
			}
			led := 0
			for _, p := range parts {
				led += p.(handOffResult).led
				total += p.(handOffResult).transfers
			}
			if led == 0 || a.n.env.Clock().Now() >= deadline {
				done(HandOffReply{StillLed: led, Transfers: total}, nil)
				return
			}
			a.after(handOffRound, round)
		})
	}
	round()
	return nil
}

// after runs fn on the API loop after d.
func (a *apiLoop) after(d time.Duration, fn func()) {
	a.nextReq++
	if a.timers == nil {
		a.timers = map[uint64]func(){}
	}
	a.timers[a.nextReq] = fn
	a.loop.After(d, apiTimer{a.nextReq})
}

func (a *apiLoop) onTimer(t apiTimer) {
	fn := a.timers[t.id]
	delete(a.timers, t.id)
	if fn != nil {
		fn()
	}
}

// handOffAll asks raft to transfer every group the loop leads to its
// best-placed other voter, and reports how many it still leads.
func (sl *slotLoop) handOffAll() handOffResult {
	var out handOffResult
	self := uint64(sl.n.env.Node())
	for _, id := range sl.slotIDs {
		s := sl.slots[id]
		if !s.leader {
			continue
		}
		out.led++
		st := s.rn.Status()
		if st.LeadTransferee != 0 {
			continue // one is under way
		}
		if to := bestVoter(s.conf.GetVoters(), self, st); to != 0 {
			s.rn.TransferLeader(to)
			sl.stats.Transfers++
			out.transfers++
		}
	}
	if out.transfers > 0 && !sl.drivePending {
		sl.drivePending = true
		sl.loop.Post(wake{})
	}
	return out
}

// bestVoter is the voter other than self with the most of the log (lowest
// id on ties), or 0 if there is none.
func bestVoter(voters []uint64, self uint64, st raft.Status) uint64 {
	var to, best uint64
	for _, x := range slices.Sorted(slices.Values(voters)) {
		pr, ok := st.Progress[x]
		if !ok || x == self || pr.IsLearner {
			continue
		}
		if to == 0 || pr.Match > best {
			to, best = x, pr.Match
		}
	}
	return to
}
