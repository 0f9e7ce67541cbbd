package e2e

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/node/state"
)

// load is concurrent senders over the HTTP API, one group channel each,
// spread over the cluster's nodes. A sender repeats a send that got no
// answer (a dead node, a timeout, a 503) with the same client_msg_no on
// the next node it believes alive until it is answered with a seq, so a
// send answered twice is deduplicated and every acknowledged one must be
// in its channel's log at that seq.
type load struct {
	c       *cluster
	workers int
	// acked are the answered sends, client_msg_no -> seq; failures the
	// unanswered tries by their error's first words.
	acked  sync.Map
	nAcked atomic.Int64
	// firstAfter is each worker's first answer after the fault marked
	// (mark, unix ns), 0 until then.
	mark       atomic.Int64
	firstAfter []atomic.Int64
	failMu     sync.Mutex
	failures   map[string]int
	stop       atomic.Bool
	wg         sync.WaitGroup
}

// urlInError is the URL net/http puts in its errors (each node's differs).
var urlInError = regexp.MustCompile(`"http://[^"]*"`)

// sendRetryPause is how long a sender waits before it repeats a send.
const sendRetryPause = 50 * time.Millisecond

func loadChannel(w int) string { return fmt.Sprintf("load-g%d", w) }

// startLoad creates the channels (on node 0) and starts the senders.
func startLoad(c *cluster, workers int) *load {
	c.t.Helper()
	l := &load{c: c, workers: workers, firstAfter: make([]atomic.Int64, workers),
		failures: map[string]int{}}
	for w := range workers {
		c.node(0).mustPost("/channel", map[string]any{"channel_id": loadChannel(w), "channel_type": 2,
			"subscribers": []string{fmt.Sprintf("u%d", w), "reader"}}, nil)
	}
	for w := range workers {
		l.wg.Add(1)
		go l.sender(w)
	}
	return l
}

func (l *load) sender(w int) {
	defer l.wg.Done()
	target := w % len(l.c.procs)
	for i := 0; !l.stop.Load(); i++ {
		no := fmt.Sprintf("w%d-%d", w, i)
		for !l.stop.Load() {
			target = l.c.liveFrom(target)
			seq, err := l.send(target, w, no)
			if err == nil {
				l.acked.Store(no, seq)
				l.nAcked.Add(1)
				now := time.Now().UnixNano()
				if m := l.mark.Load(); m != 0 && now > m {
					l.firstAfter[w].CompareAndSwap(0, now)
				}
				break
			}
			l.failed(err)
			target = (target + 1) % len(l.c.procs)
			time.Sleep(sendRetryPause)
		}
	}
}

func (l *load) send(target, w int, no string) (uint64, error) {
	var r struct {
		Data struct {
			MessageSeq  uint64 `json:"message_seq"`
			ClientMsgNo string `json:"client_msg_no"`
		} `json:"data"`
	}
	err := l.c.node(target).post("/message/send", map[string]any{"from_uid": fmt.Sprintf("u%d", w), "channel_id": loadChannel(w),
		"channel_type": 2, "client_msg_no": no, "payload": []byte("payload of " + no)}, &r)
	if err != nil {
		return 0, err
	}
	if r.Data.MessageSeq == 0 || r.Data.ClientMsgNo != no {
		return 0, fmt.Errorf("answered %+v", r.Data)
	}
	return r.Data.MessageSeq, nil
}

func (l *load) failed(err error) {
	words := strings.Fields(urlInError.ReplaceAllString(err.Error(), ""))
	key := strings.Join(words[:min(4, len(words))], " ")
	l.failMu.Lock()
	l.failures[key]++
	l.failMu.Unlock()
}

// waitAcks waits until n more sends than now are answered.
func (l *load) waitAcks(n int64, within time.Duration) {
	l.c.t.Helper()
	goal := l.nAcked.Load() + n
	waitFor(l.c.t, within, fmt.Sprintf("%d more acknowledged sends", n), func() bool { return l.nAcked.Load() >= goal })
}

// workersIn are the workers whose channel lives in one of slots.
func (l *load) workersIn(slots map[int]bool) []int {
	var out []int
	for w := range l.workers {
		if slots[state.SlotOfChannel(state.ChannelKey{Type: proto.ChannelGroup, ID: loadChannel(w)}, l.c.o.slots)] {
			out = append(out, w)
		}
	}
	return out
}

// fault marks the start of a fault: from now, each worker's first answer
// is kept (allAnsweredAgain).
func (l *load) fault() time.Time {
	for w := range l.firstAfter {
		l.firstAfter[w].Store(0)
	}
	t0 := time.Now()
	l.mark.Store(t0.UnixNano())
	return t0
}

// allAnsweredAgain waits until each of workers has had a send answered
// since the fault and returns when the last of them got its first.
func (l *load) allAnsweredAgain(workers []int, within time.Duration) time.Time {
	l.c.t.Helper()
	var last int64
	waitFor(l.c.t, within, "sends in the failed node's slots answered again", func() bool {
		last = 0
		for _, w := range workers {
			a := l.firstAfter[w].Load()
			if a == 0 {
				return false
			}
			last = max(last, a)
		}
		return true
	})
	return time.Unix(0, last)
}

// finish stops the senders and checks, on reader, that every channel's log
// is seqs 1..n without gaps or repeats, each message the payload its
// client_msg_no was sent with, and every acknowledged send at its seq.
func (l *load) finish(reader *proc) {
	t := l.c.t
	t.Helper()
	l.stop.Store(true)
	l.wg.Wait()
	stored, missing := 0, 0
	have := map[string]uint64{}
	for w := range l.workers {
		for i, m := range reader.history("reader", loadChannel(w), 2) {
			if m.MessageSeq != uint64(i+1) || string(m.Payload) != "payload of "+m.ClientMsgNo {
				t.Fatalf("%s[%d]: seq %d, %q for %s: a gap, disorder or foreign payload", loadChannel(w), i, m.MessageSeq, m.Payload, m.ClientMsgNo)
			}
			if _, dup := have[m.ClientMsgNo]; dup {
				t.Fatalf("%s stored twice", m.ClientMsgNo)
			}
			have[m.ClientMsgNo] = m.MessageSeq
			stored++
		}
	}
	l.acked.Range(func(k, v any) bool {
		if have[k.(string)] != v.(uint64) {
			missing++
			if missing <= 5 {
				t.Errorf("acknowledged send %s at seq %d: stored at %d", k, v, have[k.(string)])
			}
		}
		return true
	})
	l.failMu.Lock()
	defer l.failMu.Unlock()
	t.Logf("load: %d sends acknowledged, %d stored, %d acknowledged ones lost; unanswered tries: %v", l.nAcked.Load(), stored, missing, l.failures)
	if missing > 0 {
		t.Fatalf("%d acknowledged sends lost", missing)
	}
}

// percentile is the p-th percentile (0..1) of ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[min(len(s)-1, int(p*float64(len(s))))]
}
