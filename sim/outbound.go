package sim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jindou-im/jindou/runtime"
)

// Outbound calls in the simulator. A call travels to the world's endpoint
// (Sim.SetEndpoint) after a seeded one-way latency, is answered there, and
// the answer travels back; the calling loop gets OutboundDone unless its
// incarnation died meanwhile. What the endpoint saw stays seen: a call
// whose caller crashed, or whose answer was lost or came too late, still
// reached the endpoint (the duplicates of at-least-once delivery).

// Errors an OutboundDone may carry in the simulator.
var (
	// ErrOutboundRefused: nothing accepted the request (no endpoint, or
	// the endpoint is down, or an injected connection failure).
	ErrOutboundRefused = errors.New("sim: outbound call refused")
	// ErrOutboundTimeout: no answer within the request's timeout.
	ErrOutboundTimeout = errors.New("sim: outbound call timed out")
)

// OutboundConfig sets the network between the processes and the endpoint.
type OutboundConfig struct {
	// LatencyMin and LatencyMax bound each one-way trip (uniform).
	LatencyMin, LatencyMax time.Duration
	// RefusePct of calls fail before they reach the endpoint;
	// LostAnswerPct reach it but their answer is lost (the caller times
	// out).
	RefusePct, LostAnswerPct int
}

// DefaultOutboundConfig is a fast local network without faults.
func DefaultOutboundConfig() OutboundConfig {
	return OutboundConfig{LatencyMin: 100 * time.Microsecond, LatencyMax: time.Millisecond}
}

// Endpoint is an external service the processes call (a webhook
// receiver). Serve runs in virtual time when a request arrives, on the
// simulator's goroutine, and says how it is answered.
type Endpoint interface {
	Serve(now time.Duration, req runtime.OutboundRequest) Answer
}

// Answer is what an endpoint does with one request.
type Answer struct {
	// Refuse: the endpoint is down; the caller sees ErrOutboundRefused.
	Refuse bool
	// Hang: no answer ever; the caller times out.
	Hang bool
	// Delay is the endpoint's processing time before it answers.
	Delay  time.Duration
	Status int
	Body   []byte
}

// outboundState is the simulator's outbound network.
type outboundState struct {
	cfg      OutboundConfig
	endpoint Endpoint
	rng      *rand.Rand
}

// SetEndpoint makes e the service every outbound call reaches (nil: none,
// calls are refused).
func (s *Sim) SetEndpoint(e Endpoint) { s.out().endpoint = e }

// SetOutbound configures the outbound network from now on.
func (s *Sim) SetOutbound(cfg OutboundConfig) { s.out().cfg = cfg }

func (s *Sim) out() *outboundState {
	if s.outbound == nil {
		s.outbound = &outboundState{cfg: DefaultOutboundConfig(), rng: s.rng("outbound")}
	}
	return s.outbound
}

// incOutbound is the runtime.Outbound of one incarnation.
type incOutbound struct{ inc *incarnation }

func (inc *incarnation) Outbound() runtime.Outbound { return incOutbound{inc} }

func (o incOutbound) Call(from runtime.Loop, req runtime.OutboundRequest, tag any) {
	if o.inc.dead {
		return
	}
	l := from.(*loop)
	s := o.inc.p.s
	st := s.out()
	s.stats.OutboundCalls++
	start := s.now
	there := st.trip()
	refused := st.cfg.RefusePct > 0 && st.rng.IntN(100) < st.cfg.RefusePct
	lost := st.cfg.LostAnswerPct > 0 && st.rng.IntN(100) < st.cfg.LostAnswerPct
	back := st.trip()
	deadline := start + max(req.Timeout, 0)
	done := func(at time.Duration, d runtime.OutboundDone) {
		if req.Timeout > 0 && at > deadline {
			at, d = deadline, runtime.OutboundDone{Tag: tag, Err: ErrOutboundTimeout}
		}
		if d.Err != nil {
			s.stats.OutboundFailures++
		}
		dg := digestValue(tag) ^ uint64(d.Status)
		if d.Err != nil {
			dg = ^dg
		}
		s.schedule(&event{at: max(at, s.now), node: l.node, loop: l.name, kind: "outbound-done", digest: dg,
			alive: l.alive, fn: func() { l.handle(d) }})
	}
	s.schedule(&event{at: start + there, kind: "sim:outbound-req", digest: digestBytes(req.Body), fn: func() {
		if refused || st.endpoint == nil {
			done(s.now+back, runtime.OutboundDone{Tag: tag, Err: fmt.Errorf("%w: %s", ErrOutboundRefused, req.URL)})
			return
		}
		a := st.endpoint.Serve(s.now, req)
		switch {
		case a.Refuse:
			done(s.now+back, runtime.OutboundDone{Tag: tag, Err: fmt.Errorf("%w: %s", ErrOutboundRefused, req.URL)})
		case (a.Hang || lost) && req.Timeout <= 0:
			// No answer and no timeout: the call never completes.
		case a.Hang || lost:
			done(deadline, runtime.OutboundDone{Tag: tag, Err: ErrOutboundTimeout})
		default:
			done(s.now+max(a.Delay, 0)+back, runtime.OutboundDone{Tag: tag, Status: a.Status, Body: a.Body})
		}
	}})
}

// trip draws one one-way latency.
func (st *outboundState) trip() time.Duration {
	return time.Duration(between(st.rng, int64(st.cfg.LatencyMin), int64(st.cfg.LatencyMax)))
}
