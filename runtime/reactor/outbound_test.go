package reactor

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jindou-im/jindou/runtime"
)

// outboundProc makes calls from loop l0 and hands their completions to done.
func outboundProc(done chan<- runtime.OutboundDone) *testProc {
	return &testProc{n: 1, on: func(p *testProc, _ int, ev runtime.Event) {
		switch e := ev.(type) {
		case runtime.Posted:
			req := e.Msg.(callMsg).req
			p.env.Outbound().Call(p.loops[0], req, req.URL)
		case runtime.OutboundDone:
			done <- e
		}
	}}
}

type callMsg struct{ req runtime.OutboundRequest }

func (callMsg) Kind() string { return "call" }

func awaitDone(t *testing.T, done <-chan runtime.OutboundDone) runtime.OutboundDone {
	t.Helper()
	select {
	case d := <-done:
		return d
	case <-time.After(testTimeout):
		t.Fatal("no OutboundDone")
	}
	return runtime.OutboundDone{}
}

func TestOutboundCallDeliversTheAnswerToTheCallingLoop(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method != "POST" || r.Header.Get("Content-Type") != "application/json" || r.URL.Query().Get("event") != "msg.notify" {
			http.Error(w, "bad", 400)
			return
		}
		w.WriteHeader(202)
		_, _ = w.Write(append([]byte("got "), body...))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	done := make(chan runtime.OutboundDone, 4)
	p := outboundProc(done)
	h := startHost(t, testConfig(t), p)
	for i := range 3 {
		p.loops[0].Post(callMsg{runtime.OutboundRequest{Method: "POST", URL: srv.URL + "/hook?event=msg.notify",
			ContentType: "application/json", Body: []byte(`[1]`), Timeout: testTimeout}})
		d := awaitDone(t, done)
		if d.Err != nil || d.Status != 202 || string(d.Body) != "got [1]" || d.Tag != srv.URL+"/hook?event=msg.notify" {
			t.Fatalf("call %d: %+v", i, d)
		}
	}
	if n := conns.Load(); n > 1 {
		t.Fatalf("%d connections for 3 sequential calls: not reused", n)
	}
	if st := h.Stats(); st.OutboundCalls != 3 || st.OutboundFailures != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestOutboundCallTimesOutAndRefusalsComeBackAsErrors(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer srv.Close()
	defer close(release)
	done := make(chan runtime.OutboundDone, 4)
	p := outboundProc(done)
	startHost(t, testConfig(t), p)
	start := time.Now()
	p.loops[0].Post(callMsg{runtime.OutboundRequest{Method: "POST", URL: srv.URL, Timeout: 200 * time.Millisecond}})
	if d := awaitDone(t, done); d.Err == nil || d.Status != 0 || time.Since(start) > 5*time.Second {
		t.Fatalf("a hanging receiver: %+v after %v", d, time.Since(start))
	}
	p.loops[0].Post(callMsg{runtime.OutboundRequest{Method: "POST", URL: "http://127.0.0.1:1/none", Timeout: time.Second}})
	if d := awaitDone(t, done); d.Err == nil {
		t.Fatalf("a refused connection: %+v", d)
	}
}

func TestOutboundCallsOverTheLimitFailAtOnce(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer srv.Close()
	done := make(chan runtime.OutboundDone, 4)
	p := outboundProc(done)
	cfg := testConfig(t)
	cfg.MaxOutbound = 1
	startHost(t, cfg, p)
	for range 2 {
		p.loops[0].Post(callMsg{runtime.OutboundRequest{Method: "POST", URL: srv.URL, Timeout: testTimeout}})
	}
	if d := awaitDone(t, done); !errors.Is(d.Err, ErrOutboundBusy) {
		t.Fatalf("the call over the limit: %+v", d)
	}
	close(release)
	if d := awaitDone(t, done); d.Err != nil || d.Status != 200 {
		t.Fatalf("the call within the limit: %+v", d)
	}
}
