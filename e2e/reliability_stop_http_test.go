package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// A SIGTERM while HTTP sends run, on the real binary: a send in flight
// gets its real outcome (200 with the seq, stored), a new one during the
// drain a 503 saying it was not stored (and it is not), and no request
// hangs: the node exits once they are answered.

const stopHTTPSenders = 16

// httpSendOutcome is what one sender saw.
type httpSendOutcome struct {
	uid, to   string
	acked     map[string]uint64 // client_msg_no → seq, of the 200s
	refused   map[string]bool   // the 503s saying the node is stopping
	other     []string          // any other answer
	transport string            // the error that ended the loop
}

func TestASIGTERMDuringHTTPSendsAnswersEachInFlightWithItsOutcomeAndRefusesNewOnes(t *testing.T) {
	dir := t.TempDir()
	p := startNode(t, nodeOpts{dataDir: dir})
	client := &http.Client{Timeout: 30 * time.Second}
	outs := make([]*httpSendOutcome, stopHTTPSenders)
	var wg sync.WaitGroup
	for i := range outs {
		o := &httpSendOutcome{uid: fmt.Sprintf("hs%d", i), to: fmt.Sprintf("hr%d", i), acked: map[string]uint64{}, refused: map[string]bool{}}
		outs[i] = o
		wg.Add(1)
		go func() { defer wg.Done(); o.run(client, p.HTTP) }()
	}
	time.Sleep(1500 * time.Millisecond)
	p.signal(syscall.SIGTERM)
	if code := p.wait(30 * time.Second); code != 0 {
		t.Fatalf("exit code %d after SIGTERM", code)
	}
	ended := make(chan struct{})
	go func() { wg.Wait(); close(ended) }()
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("HTTP sends still unanswered 10 s after the node exited")
	}
	drained := p.LogLines("http: sends drained before the stop")
	p = startNode(t, nodeOpts{dataDir: dir})
	var acked, refused int
	for _, o := range outs {
		a, r := o.check(t, p)
		acked, refused = acked+a, refused+r
	}
	t.Logf("%d HTTP sends answered 200 and stored with their seq, %d refused with 503 and not stored; the drain: %v", acked, refused, drained)
	if acked == 0 || refused == 0 {
		t.Fatalf("%d HTTP sends acknowledged, %d refused during the drain: the stop did not come under load", acked, refused)
	}
	if len(drained) != 1 {
		t.Errorf("%d log lines of the HTTP drain, want 1", len(drained))
	}
	p.signal(syscall.SIGTERM)
	p.wait(30 * time.Second)
}

// run sends one message after the other until the node stops answering.
func (o *httpSendOutcome) run(client *http.Client, base string) {
	for n := 0; ; n++ {
		cmn := fmt.Sprintf("%s-%d", o.uid, n)
		body, _ := json.Marshal(map[string]any{"from_uid": o.uid, "channel_id": o.to, "channel_type": 1,
			"client_msg_no": cmn, "payload": []byte("stop over http")})
		resp, err := client.Post(base+"/message/send", "application/json", bytes.NewReader(body))
		if err != nil {
			o.transport = err.Error()
			return
		}
		rb, rerr := io.ReadAll(resp.Body)
		resp.Body.Close()
		var env struct {
			Status int    `json:"status"`
			Msg    string `json:"msg"`
			Data   struct {
				MessageSeq uint64 `json:"message_seq"`
			} `json:"data"`
		}
		_ = json.Unmarshal(rb, &env)
		switch {
		case rerr != nil:
			o.transport = rerr.Error()
			return
		case resp.StatusCode == 200 && env.Data.MessageSeq > 0:
			o.acked[cmn] = env.Data.MessageSeq
		case resp.StatusCode == 503 && strings.Contains(env.Msg, "not stored"):
			o.refused[cmn] = true
		default:
			o.other = append(o.other, fmt.Sprintf("%s: %d %s", cmn, resp.StatusCode, rb))
		}
	}
}

// check compares the answers with the stored history.
func (o *httpSendOutcome) check(t *testing.T, p *proc) (acked, refused int) {
	t.Helper()
	if len(o.other) > 0 {
		t.Errorf("%s: answers neither 200 nor 503 not stored: %q", o.uid, o.other)
	}
	t.Logf("%s: %d sends answered, then %s", o.uid, len(o.acked)+len(o.refused), o.transport)
	stored := map[string]uint64{}
	for _, m := range p.history(o.uid, o.to, 1) {
		stored[m.ClientMsgNo] = m.MessageSeq
	}
	for cmn, seq := range o.acked {
		if got, ok := stored[cmn]; !ok || got != seq {
			t.Errorf("%s answered 200 with seq %d, stored: %v seq %d", cmn, seq, ok, got)
		}
	}
	for cmn := range o.refused {
		if seq, ok := stored[cmn]; ok {
			t.Errorf("%s refused with 503 but stored with seq %d", cmn, seq)
		}
	}
	return len(o.acked), len(o.refused)
}
