package http

import (
	"context"
	"encoding/json"
	nethttp "net/http"
	"strings"
	"testing"
	"time"

	"github.com/jindou-im/jindou/node"
)

// drainNode answers each send once release is closed; got hears of each.
type drainNode struct {
	got     chan struct{}
	release chan struct{}
}

func (n drainNode) Submit(req node.Request, done func(any, error)) {
	if _, ok := req.(node.SendMessage); !ok {
		done(nil, nil)
		return
	}
	n.got <- struct{}{}
	go func() {
		<-n.release
		done(node.SendReply{MessageID: 7, MessageSeq: 3}, nil)
	}()
}

// During a stop a send in flight gets its real answer, a new one a 503
// saying it was not stored, and Stop returns only after the first.
func TestDuringAStopSendsInFlightGetTheirAnswerNewOnesA503AndStopWaitsForThem(t *testing.T) {
	n := drainNode{got: make(chan struct{}, 4), release: make(chan struct{})}
	s := New(Config{Logger: quiet}, n)
	const body = `{"from_uid":"a","channel_id":"b","channel_type":1,"payload":"aGk="}`
	first := make(chan resp, 1)
	go func() { first <- post(t, s, "/message/send", body) }()
	<-n.got
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		s.waitSends(ctx)
	}()
	for !drainStopping(s) {
		time.Sleep(time.Millisecond)
	}
	for _, path := range []string{"/message/send", "/message/sendbatch"} {
		r := post(t, s, path, `{"from_uid":"a","channel_id":"b","channel_type":1,"subscribers":["b"],"payload":"aGk="}`)
		var env struct {
			Status int    `json:"status"`
			Msg    string `json:"msg"`
		}
		if err := json.Unmarshal([]byte(r.body), &env); err != nil || r.code != nethttp.StatusServiceUnavailable ||
			!strings.Contains(env.Msg, "stopping") || !strings.Contains(env.Msg, "not stored") {
			t.Fatalf("%s during the stop: %d %s, want 503 saying it was not stored", path, r.code, r.body)
		}
	}
	if r := get(t, s, "/healthz"); r.code != 200 {
		t.Fatalf("/healthz during the drain: %d, want 200 (only sends are refused)", r.code)
	}
	select {
	case <-stopped:
		t.Fatal("the drain ended with a send in flight")
	case <-time.After(50 * time.Millisecond):
	}
	close(n.release)
	if r := <-first; r.code != 200 || !strings.Contains(r.body, `"message_seq":3`) {
		t.Fatalf("the send in flight: %d %s, want its 200 with the seq", r.code, r.body)
	}
	<-stopped
}

func drainStopping(s *Server) bool {
	s.drain.mu.Lock()
	defer s.drain.mu.Unlock()
	return s.drain.stopping
}
