package sim_test

import (
	"errors"
	"testing"
	"time"

	"github.com/jindou-im/jindou/runtime"
	"github.com/jindou-im/jindou/sim"
)

// callProc makes one outbound call per timer tag it is given and records
// the completions.
type callProc struct {
	env  runtime.Env
	loop runtime.Loop
	done []runtime.OutboundDone
	at   []time.Duration
}

func (p *callProc) Start(env runtime.Env) error {
	p.env, p.loop = env, env.NewLoop("main", p)
	return nil
}
func (p *callProc) Accept(runtime.ConnInfo) runtime.Loop { return p.loop }
func (p *callProc) Stop()                                {}
func (p *callProc) Kill()                                {}
func (p *callProc) Handle(ev runtime.Event) {
	if d, ok := ev.(runtime.OutboundDone); ok {
		p.done = append(p.done, d)
		p.at = append(p.at, p.env.Clock().Now())
	}
}

func (p *callProc) call(body string, timeout time.Duration) {
	p.env.Outbound().Call(p.loop, runtime.OutboundRequest{Method: "POST", URL: "http://x/hook", Body: []byte(body), Timeout: timeout}, body)
}

// scripted answers each request by its body.
type scripted struct {
	seen    []string
	answers map[string]sim.Answer
}

func (s *scripted) Serve(_ time.Duration, req runtime.OutboundRequest) sim.Answer {
	s.seen = append(s.seen, string(req.Body))
	if a, ok := s.answers[string(req.Body)]; ok {
		return a
	}
	return sim.Answer{Status: 200, Body: []byte("ok")}
}

func TestOutboundCallsCompleteWithTheEndpointsAnswerOrAnError(t *testing.T) {
	s := sim.New(sim.Config{Seed: 3})
	ep := &scripted{answers: map[string]sim.Answer{
		"down": {Refuse: true}, "hang": {Hang: true}, "slow": {Status: 200, Delay: 2 * time.Second}, "err": {Status: 500},
	}}
	s.SetEndpoint(ep)
	p := &callProc{}
	s.AddProcess(1, func() runtime.Process { return p }).Start()
	s.At(0, "calls", func() {
		for _, b := range []string{"ok", "down", "hang", "slow", "err"} {
			p.call(b, time.Second)
		}
	})
	if err := s.Run(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	got := map[string]runtime.OutboundDone{}
	for _, d := range p.done {
		got[d.Tag.(string)] = d
	}
	if len(p.done) != 5 || got["ok"].Status != 200 || string(got["ok"].Body) != "ok" || got["err"].Status != 500 || got["err"].Err != nil {
		t.Fatalf("completions %+v", p.done)
	}
	if !errors.Is(got["down"].Err, sim.ErrOutboundRefused) || !errors.Is(got["hang"].Err, sim.ErrOutboundTimeout) || !errors.Is(got["slow"].Err, sim.ErrOutboundTimeout) {
		t.Fatalf("down %v, hang %v, slow %v", got["down"].Err, got["hang"].Err, got["slow"].Err)
	}
	if len(ep.seen) != 5 {
		t.Fatalf("the endpoint saw %v: a slow or hanging call still reaches it", ep.seen)
	}
	for i, d := range p.done {
		if d.Err == sim.ErrOutboundTimeout && p.at[i] != time.Second {
			t.Fatalf("a timeout completed at %v, not at the request's 1s timeout", p.at[i])
		}
	}
}

func TestOutboundCompletionsOfACrashedIncarnationAreDiscarded(t *testing.T) {
	s := sim.New(sim.Config{Seed: 4})
	ep := &scripted{}
	s.SetEndpoint(ep)
	p := &callProc{}
	proc := s.AddProcess(1, func() runtime.Process { return p })
	proc.Start()
	s.At(0, "call", func() { p.call("a", time.Second) })
	s.At(time.Microsecond, "crash", func() { proc.Crash(100) })
	if err := s.Run(time.Second); err != nil {
		t.Fatal(err)
	}
	if len(p.done) != 0 || len(ep.seen) != 1 {
		t.Fatalf("after the crash: %d completions delivered, endpoint saw %d (want 0 and 1)", len(p.done), len(ep.seen))
	}
}

func TestOutboundWithoutAnEndpointIsRefused(t *testing.T) {
	s := sim.New(sim.Config{Seed: 5})
	s.SetOutbound(sim.OutboundConfig{LatencyMin: time.Millisecond, LatencyMax: time.Millisecond})
	p := &callProc{}
	s.AddProcess(1, func() runtime.Process { return p }).Start()
	s.At(0, "call", func() { p.call("a", time.Second) })
	if err := s.Run(time.Second); err != nil {
		t.Fatal(err)
	}
	if len(p.done) != 1 || !errors.Is(p.done[0].Err, sim.ErrOutboundRefused) || p.at[0] != 2*time.Millisecond {
		t.Fatalf("completions %+v at %v", p.done, p.at)
	}
	if st := s.Stats(); st.OutboundCalls != 1 || st.OutboundFailures != 1 {
		t.Fatalf("stats %+v", st)
	}
}
