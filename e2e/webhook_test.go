package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// hookReceiver is a real HTTP webhook receiver on 127.0.0.1: it answers
// 200 and records msg.notify messages, answers 500 while failing, and
// refuses connections while down (its listener closed, reopened on the same
// port when it comes up).
type hookReceiver struct {
	addr string
	srv  *http.Server

	mu       sync.Mutex
	ln       net.Listener // nil while down
	failing  bool
	got      []hookMsg // every message of every accepted msg.notify, in order
	posts    int
	rejected int
	// firstAt and lastAt are when the first and the latest accepted
	// msg.notify arrived.
	firstAt, lastAt time.Time
}

type hookMsg struct {
	MessageID   int64  `json:"message_id"`
	MessageSeq  uint64 `json:"message_seq"`
	ClientMsgNo string `json:"client_msg_no"`
	FromUID     string `json:"from_uid"`
	ChannelID   string `json:"channel_id"`
	ChannelType uint8  `json:"channel_type"`
	Payload     []byte `json:"payload"`
}

func newHookReceiver(t *testing.T) *hookReceiver {
	r := &hookReceiver{}
	r.srv = &http.Server{Handler: http.HandlerFunc(r.serve), ReadHeaderTimeout: 5 * time.Second}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.addr = ln.Addr().String()
	r.startOn(ln)
	t.Cleanup(func() { _ = r.srv.Close() })
	return r
}

func (r *hookReceiver) URL() string { return "http://" + r.addr + "/hook" }

func (r *hookReceiver) startOn(ln net.Listener) {
	r.mu.Lock()
	r.ln = ln
	r.mu.Unlock()
	go func() { _ = r.srv.Serve(ln) }()
}

func (r *hookReceiver) setFailing(v bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failing = v
}

// down closes the listener and every open connection: connections are refused.
func (r *hookReceiver) down() {
	r.mu.Lock()
	ln := r.ln
	r.ln = nil
	r.mu.Unlock()
	_ = ln.Close()
	r.srv.SetKeepAlivesEnabled(false)
	r.srv.SetKeepAlivesEnabled(true) // idle kept-alive connections are closed by the node's next attempt
}

// up listens on the same port again.
func (r *hookReceiver) up(t *testing.T) {
	var ln net.Listener
	var err error
	for range 100 {
		if ln, err = net.Listen("tcp", r.addr); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("receiver: listening on %s again: %v", r.addr, err)
	}
	r.startOn(ln)
}

func (r *hookReceiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.posts++
	if r.failing || r.ln == nil {
		r.rejected++
		http.Error(w, "receiver failing", http.StatusInternalServerError)
		return
	}
	if err != nil || req.Method != http.MethodPost || req.URL.Query().Get("event") != "msg.notify" {
		http.Error(w, "unexpected request", http.StatusBadRequest)
		return
	}
	var msgs []hookMsg
	if err := json.Unmarshal(body, &msgs); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.got = append(r.got, msgs...)
	if r.firstAt.IsZero() {
		r.firstAt = time.Now()
	}
	r.lastAt = time.Now()
	w.WriteHeader(http.StatusOK)
}

func (r *hookReceiver) received() []hookMsg {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hookMsg(nil), r.got...)
}

// hookSender sends numbered messages over /message/send to a few groups,
// retrying (same client_msg_no) any whose outcome was lost.
type hookSender struct {
	groups []string
	acked  sync.Map // client_msg_no -> true
	nAcked atomic.Int64
}

func (s *hookSender) send(p *proc, i int) error {
	no := fmt.Sprintf("m%04d", i)
	var r struct {
		Data struct {
			MessageSeq uint64 `json:"message_seq"`
		} `json:"data"`
	}
	err := p.post("/message/send", map[string]any{"from_uid": "sender", "channel_id": s.groups[i%len(s.groups)],
		"channel_type": 2, "client_msg_no": no, "payload": []byte("payload of " + no)}, &r)
	if err != nil {
		return err
	}
	if r.Data.MessageSeq == 0 {
		return errors.New("no seq")
	}
	if _, dup := s.acked.LoadOrStore(no, true); !dup {
		s.nAcked.Add(1)
	}
	return nil
}

// sendAll sends messages from..to-1 with workers in parallel; it returns
// the indexes whose outcome is unknown (the node died meanwhile).
func (s *hookSender) sendAll(p *proc, idx []int, workers int) []int {
	var mu sync.Mutex
	var failed []int
	next := atomic.Int64{}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				k := int(next.Add(1)) - 1
				if k >= len(idx) {
					return
				}
				if err := s.send(p, idx[k]); err != nil {
					mu.Lock()
					failed = append(failed, idx[k])
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	return failed
}

func hookNodeEnv(r *hookReceiver, extra ...string) []string {
	return append([]string{"JINDOU_WEBHOOK_HTTP_ADDR=" + r.URL(), "JINDOU_WEBHOOK_FOCUS_EVENTS=msg.notify",
		"JINDOU_WEBHOOK_MAX_BACKOFF=1s", "JINDOU_WEBHOOK_TIMEOUT=2s"}, extra...)
}

// TestWebhookReceiverGetsEveryMessageAfterAnOutageAndKill9: 1,000 messages
// to four groups while the receiver answers 500 for 5 s and then refuses
// connections for 5 s, with jindou SIGKILLed in the middle of the sends
// and restarted on its data dir. Once the receiver is back it must get
// every stored message (duplicates allowed and counted), each group's in
// seq order, each as stored.
func TestWebhookReceiverGetsEveryMessageAfterAnOutageAndKill9(t *testing.T) {
	const total = 1000
	rcv := newHookReceiver(t)
	dir := t.TempDir()
	p := startNode(t, nodeOpts{dataDir: dir, env: hookNodeEnv(rcv)})
	s := &hookSender{groups: []string{"hook-g0", "hook-g1", "hook-g2", "hook-g3"}}
	for _, g := range s.groups {
		p.mustPost("/channel", map[string]any{"channel_id": g, "channel_type": 2, "subscribers": []string{"sender", "reader"}}, nil)
	}
	outage := time.Now()
	rcv.setFailing(true)
	go func() {
		time.Sleep(5 * time.Second)
		rcv.down()
		rcv.setFailing(false)
	}()
	first := make([]int, total/2)
	for i := range first {
		first[i] = i
	}
	killed := make(chan struct{})
	go func() {
		for s.nAcked.Load() < total/4 {
			time.Sleep(time.Millisecond)
		}
		p.kill9()
		close(killed)
	}()
	unknown := s.sendAll(p, first, 8)
	<-killed
	t.Logf("kill -9 after %d acknowledged sends; %d outcomes unknown", s.nAcked.Load(), len(unknown))
	q := startNode(t, nodeOpts{dataDir: dir, env: hookNodeEnv(rcv)})
	rest := unknown
	for i := total / 2; i < total; i++ {
		rest = append(rest, i)
	}
	if failed := s.sendAll(q, rest, 8); len(failed) > 0 {
		t.Fatalf("%d sends failed with the node up: %v", len(failed), failed[:min(5, len(failed))])
	}
	if n := s.nAcked.Load(); n != total {
		t.Fatalf("%d of %d sends acknowledged", n, total)
	}
	time.Sleep(time.Until(outage.Add(10 * time.Second)))
	if got := len(rcv.received()); got != 0 {
		t.Fatalf("the receiver accepted %d messages during its outage", got)
	}
	var st varzHook
	q.getJSON("/varz", &st)
	t.Logf("outage over after %v: backlog %d, oldest %.1fs, %d failed POSTs so far", time.Since(outage).Round(time.Millisecond),
		st.Webhook.Backlog, st.Webhook.OldestAgeSeconds, st.Webhook.Failures)
	if st.Webhook.Backlog != total || st.Webhook.OldestAgeSeconds < 5 || st.Webhook.Failures == 0 {
		t.Errorf("/varz during the outage: %+v; want a backlog of %d, the oldest over 5 s old, failures", st.Webhook, total)
	}
	rcv.up(t)
	upAt := time.Now()

	stored := map[string][]message{}
	for _, g := range s.groups {
		stored[g] = q.history("reader", g, 2)
	}
	deadline := time.Now().Add(60 * time.Second)
	var res hookCheck
	for {
		res = checkHooks(rcv.received(), stored)
		if res.missing == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, f := range res.failures[:min(10, len(res.failures))] {
		t.Error(f)
	}
	n := 0
	for _, g := range s.groups {
		n += len(stored[g])
	}
	if n != total {
		t.Errorf("%d messages stored, want %d", n, total)
	}
	if res.missing > 0 {
		t.Fatalf("%d stored messages never reached the receiver", res.missing)
	}
	t.Logf("the receiver has all %d messages %v after coming up (%d received, %d duplicates, %d POSTs, %d answered 500)",
		n, time.Since(upAt).Round(time.Millisecond), len(rcv.received()), res.duplicates, rcv.posts, rcv.rejected)
	waitFor(t, 10*time.Second, "the backlog drains", func() bool {
		q.getJSON("/varz", &st)
		return st.Webhook.Backlog == 0 && st.Webhook.Delivered >= int64(total)
	})
}

type varzHook struct {
	Webhook struct {
		Backlog          int     `json:"backlog"`
		OldestAgeSeconds float64 `json:"oldest_age_seconds"`
		Delivered        int64   `json:"delivered"`
		Failures         int64   `json:"failures"`
	} `json:"webhook"`
}

type hookCheck struct {
	failures            []string
	missing, duplicates int
}

// checkHooks: every received message is the stored one at its seq and
// arrives after every earlier seq of its channel; missing counts what of
// stored never arrived.
func checkHooks(got []hookMsg, stored map[string][]message) hookCheck {
	var out hookCheck
	have := map[string]uint64{}
	for _, m := range got {
		h := have[m.ChannelID]
		switch {
		case m.MessageSeq <= h:
			out.duplicates++
		case m.MessageSeq == h+1:
			have[m.ChannelID] = m.MessageSeq
		default:
			out.failures = append(out.failures, fmt.Sprintf("%s seq %d arrived before seq %d", m.ChannelID, m.MessageSeq, h+1))
			continue
		}
		log := stored[m.ChannelID]
		if m.MessageSeq > uint64(len(log)) {
			out.failures = append(out.failures, fmt.Sprintf("%s seq %d is not stored", m.ChannelID, m.MessageSeq))
			continue
		}
		if s := log[m.MessageSeq-1]; s.MessageID != m.MessageID || s.ClientMsgNo != m.ClientMsgNo || string(s.Payload) != string(m.Payload) {
			out.failures = append(out.failures, fmt.Sprintf("%s seq %d arrived as %s (id %d), stored as %s (id %d)", m.ChannelID, m.MessageSeq, m.ClientMsgNo, m.MessageID, s.ClientMsgNo, s.MessageID))
		}
	}
	for ch, log := range stored {
		out.missing += len(log) - int(min(have[ch], uint64(len(log))))
	}
	return out
}

func (p *proc) getJSON(path string, v any) {
	p.t.Helper()
	resp, err := httpClient.Get(p.HTTP + path)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		p.t.Fatalf("GET %s: %v", path, err)
	}
}

func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// procCPU is the process's user+system CPU time from /proc/<pid>/stat.
func procCPU(t *testing.T, pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond // USER_HZ = 100
}
