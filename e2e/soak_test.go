package e2e

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/wkclient"
)

// The soak with churn (issue 17), on the real binary: clients connect and
// disconnect over TCP and WebSocket at a steady target, send person and
// group messages, call the HTTP API (sends, conversation syncs, message
// syncs, tokens), and slow readers join a busy group and are cut. Every
// sample interval the node's RSS (/proc/<pid>/status), descriptors
// (/proc/<pid>/fd), goroutines (go_goroutines) and server connections
// (jindou_connections) are sampled. It is not part of `make test`:
//
//	make soak                                   # 30 minutes, 5 of warm-up
//	E2E_SOAK=1 E2E_SOAK_DURATION=3m E2E_SOAK_WARMUP=1m go test ./e2e -run '^TestSoak' -v -timeout 15m
//
// Drift, after the warm-up: base is the mean of the first soakWindow
// samples taken at or after the warm-up, last the mean of the last
// soakWindow samples. RSS: last ≤ base × 1.05. Goroutines and descriptors
// net of the server's connections at the sample (each connection is one
// descriptor): last ≤ base × 1.05 + soakSlack. The churn holds the live
// connections at soakChurners (+ one slow reader and one blaster).

const (
	soakChurners = 24 // connections held by the churn at any time
	soakUsers    = 64 // the churn's users, all in the group soak-g
	soakWindow   = 5  // samples averaged at each end
	soakSlack    = 8  // goroutines or descriptors beyond 5 %
	soakMaxDrift = 0.05
)

// soakSample is one sample of the node.
type soakSample struct {
	at                        time.Duration
	rss, heap                 int64
	fds, goroutines, conns    int
	sessions, sends, httpCall int64
}

// soakCounts are what the load did.
type soakCounts struct {
	tcpSessions, wsSessions, sends, acked, recvs atomic.Int64
	httpCalls, httpErrors, dialErrors            atomic.Int64
	slowSeen                                     atomic.Int64
}

func soakDuration(key string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(key)); err == nil && d > 0 {
		return d
	}
	return def
}

func TestSoakWithChurnKeepsRSSGoroutinesAndFDsFlat(t *testing.T) {
	if os.Getenv("E2E_SOAK") == "" {
		t.Skip("the soak runs with E2E_SOAK=1 (make soak)")
	}
	total := soakDuration("E2E_SOAK_DURATION", 30*time.Minute)
	warm := soakDuration("E2E_SOAK_WARMUP", 5*time.Minute)
	every := soakDuration("E2E_SOAK_SAMPLE", 30*time.Second)
	if n := int((total - warm) / every); n < 2*soakWindow {
		t.Fatalf("%v after a %v warm-up gives %d samples every %v, want at least %d", total-warm, warm, n, every, 2*soakWindow)
	}
	p := startNode(t, nodeOpts{env: soakNodeEnv()})
	var members []string
	for i := range soakUsers {
		members = append(members, soakUID(i))
	}
	p.mustPost("/channel", map[string]any{"channel_id": "soak-g", "channel_type": 2, "subscribers": members}, nil)
	p.mustPost("/channel", map[string]any{"channel_id": "soak-slow", "channel_type": 2,
		"subscribers": []string{"soak-blaster", "soak-slow0", "soak-slow1", "soak-slow2", "soak-slow3"}}, nil)
	cutsBefore := sumValues(metricValues(scrape(t, p), "jindou_slow_reader_cuts_total"))

	var c soakCounts
	stop := make(chan struct{})
	var wg sync.WaitGroup
	run := func(f func()) { wg.Add(1); go func() { defer wg.Done(); f() }() }
	for i := range soakChurners {
		run(func() { soakChurn(p, i, &c, stop) })
	}
	run(func() { soakHTTP(p, &c, stop) })
	run(func() { soakBlaster(p, &c, stop) })
	run(func() { soakSlowReaders(p, &c, stop) })

	samples := soakSampleLoop(t, p, &c, total, every)
	close(stop)
	wg.Wait()
	cuts := sumValues(metricValues(scrape(t, p), "jindou_slow_reader_cuts_total")) - cutsBefore
	t.Logf("load: %d TCP and %d WebSocket sessions, %d sends (%d acknowledged), %d RECVs, %d HTTP calls (%d failed), %d failed dials, %d slow readers, %v slow-reader cuts in /metrics",
		c.tcpSessions.Load(), c.wsSessions.Load(), c.sends.Load(), c.acked.Load(), c.recvs.Load(), c.httpCalls.Load(),
		c.httpErrors.Load(), c.dialErrors.Load(), c.slowSeen.Load(), cuts)
	t.Log(soakTable(samples))
	soakCheckLoad(t, &c, cuts)
	soakCheckDrift(t, samples, warm)
	p.signal(15)
	if code := p.wait(60 * time.Second); code != 0 {
		t.Errorf("exit code %d after SIGTERM", code)
	}
}

// soakNodeEnv shrinks the node's bounded caches so that they are full
// within the warm-up: Pebble's block cache and memtables (64 and 2 × 32
// MiB by default, outside the Go heap: at the soak's write rate, about 10
// MiB a minute into the memtables, they still fill after 5 minutes), and
// the raft log cache of each slot (256 KiB; with 64 slots the soak's
// traffic fills them only after hours, so 4 slots). Growth that goes on
// past these is what the soak looks for. E2E_SOAK_DEFAULTS=1 keeps the
// defaults.
func soakNodeEnv() []string {
	if os.Getenv("E2E_SOAK_DEFAULTS") != "" {
		return nil
	}
	return []string{"JINDOU_STORE_CACHE_SIZE=" + fmt.Sprint(8<<20), "JINDOU_STORE_MEMTABLE_SIZE=" + fmt.Sprint(4<<20), "JINDOU_SLOTS=4"}
}

func soakUID(i int) string { return fmt.Sprintf("soak-u%d", i) }

func sumValues(m map[string]float64) float64 {
	var s float64
	for _, v := range m {
		s += v
	}
	return s
}

// soakChurn holds one connection at a time: a random user, over TCP or
// WebSocket in turn, for 1–4 s, sending person and group messages and
// acknowledging what it receives; then it closes and dials again.
func soakChurn(p *proc, id int, c *soakCounts, stop <-chan struct{}) {
	rng := rand.New(rand.NewPCG(uint64(id), 17))
	for n := 0; ; n++ {
		select {
		case <-stop:
			return
		default:
		}
		uid := soakUID(rng.IntN(soakUsers))
		o := wkclient.Options{UID: uid, DeviceFlag: proto.DeviceApp, DeviceID: fmt.Sprintf("d%d", id)}
		var cl *wkclient.NetClient
		var err error
		if (id+n)%2 == 0 {
			cl, err = wkclient.DialTCP(p.TCP, o)
			c.tcpSessions.Add(1)
		} else {
			cl, err = wkclient.DialWS(p.WS, o)
			c.wsSessions.Add(1)
		}
		if err != nil {
			c.dialErrors.Add(1)
			time.Sleep(200 * time.Millisecond)
			continue
		}
		soakSession(cl, rng, c, time.Duration(1000+rng.IntN(3000))*time.Millisecond)
		time.Sleep(50 * time.Millisecond)
	}
}

// soakSession sends a few messages over lifetime, reads all the time, and
// closes.
func soakSession(cl *wkclient.NetClient, rng *rand.Rand, c *soakCounts, lifetime time.Duration) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			pk, err := cl.Next(time.Now().Add(lifetime + 5*time.Second))
			if err != nil {
				return
			}
			switch pk := pk.(type) {
			case *proto.Recv:
				c.recvs.Add(1)
				_ = cl.Ack(pk)
			case *proto.Sendack:
				if pk.ReasonCode == proto.ReasonSuccess {
					c.acked.Add(1)
				}
			}
		}
	}()
	end := time.Now().Add(lifetime)
	for time.Now().Before(end) {
		var err error
		if rng.IntN(2) == 0 {
			_, err = cl.Send(soakUID(rng.IntN(soakUsers)), proto.ChannelPerson, "", []byte("soak person"))
		} else {
			_, err = cl.Send("soak-g", proto.ChannelGroup, "", []byte("soak group"))
		}
		if err != nil {
			break
		}
		c.sends.Add(1)
		time.Sleep(time.Duration(300+rng.IntN(700)) * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // the last SENDACKs
	cl.Close()
	<-done
}

// soakHTTP calls the API five times a second: sends, conversation syncs,
// message syncs and tokens.
func soakHTTP(p *proc, c *soakCounts, stop <-chan struct{}) {
	rng := rand.New(rand.NewPCG(99, 17))
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for n := 0; ; n++ {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		u, v := soakUID(rng.IntN(soakUsers)), soakUID(rng.IntN(soakUsers))
		var err error
		switch n % 4 {
		case 0:
			err = p.post("/message/send", map[string]any{"from_uid": u, "channel_id": v, "channel_type": 1,
				"payload": []byte("soak http")}, nil)
		case 1:
			err = p.post("/conversation/sync", map[string]any{"uid": u, "msg_count": 5}, nil)
		case 2:
			err = p.post("/channel/messagesync", map[string]any{"login_uid": u, "channel_id": "soak-g", "channel_type": 2,
				"start_message_seq": 0, "end_message_seq": 0, "limit": 20, "pull_mode": 0}, nil)
		case 3:
			err = p.post("/user/token", map[string]any{"uid": u, "token": fmt.Sprintf("t%d", n), "device_flag": 0}, nil)
		}
		c.httpCalls.Add(1)
		if err != nil {
			c.httpErrors.Add(1)
		}
	}
}

// soakBlaster keeps 2 KiB group messages going to soak-slow, 30 a second,
// so that its online slow reader falls behind.
func soakBlaster(p *proc, c *soakCounts, stop <-chan struct{}) {
	payload := make([]byte, 2048)
	for {
		cl, err := wkclient.DialTCP(p.TCP, wkclient.Options{UID: "soak-blaster", DeviceFlag: proto.DeviceApp})
		if err != nil {
			c.dialErrors.Add(1)
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Millisecond):
				continue
			}
		}
		go func() {
			for {
				pk, err := cl.Next(time.Now().Add(time.Minute))
				if err != nil {
					return
				}
				if r, ok := pk.(*proto.Recv); ok {
					_ = cl.Ack(r)
				}
			}
		}()
		tick := time.NewTicker(time.Second / 30)
		for err == nil {
			select {
			case <-stop:
				tick.Stop()
				cl.Close()
				return
			case <-tick.C:
			}
			_, err = cl.Send("soak-slow", proto.ChannelGroup, "", payload)
		}
		tick.Stop()
		cl.Close()
	}
}

// soakSlowReaders logs a member of soak-slow in that never reads (a small
// receive buffer) for 15 s, and closes; then the next. The server cuts
// each (counted in /metrics): the client cannot tell at once, as the
// kernel's retransmissions to a receive buffer shrunk after the handshake
// back off.
func soakSlowReaders(p *proc, c *soakCounts, stop <-chan struct{}) {
	for n := 0; ; n++ {
		cl, err := wkclient.DialTCP(p.TCP, wkclient.Options{UID: fmt.Sprintf("soak-slow%d", n%4), DeviceFlag: proto.DeviceApp})
		if err != nil {
			c.dialErrors.Add(1)
		} else {
			if tc, ok := cl.Conn().(*net.TCPConn); ok {
				_ = tc.SetReadBuffer(4 << 10)
			}
			c.slowSeen.Add(1)
			select {
			case <-stop:
				cl.Close()
				return
			case <-time.After(15 * time.Second):
			}
			cl.Close()
		}
		select {
		case <-stop:
			return
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// soakSampleLoop samples the node every interval until total has passed.
func soakSampleLoop(t *testing.T, p *proc, c *soakCounts, total, every time.Duration) []soakSample {
	begin := time.Now()
	var out []soakSample
	tick := time.NewTicker(every)
	defer tick.Stop()
	for range tick.C {
		s := soakTake(t, p, c, time.Since(begin))
		out = append(out, s)
		t.Logf("sample %s", soakRow(s))
		if time.Since(begin)+every/2 > total {
			return out
		}
	}
	return out
}

func soakTake(t *testing.T, p *proc, c *soakCounts, at time.Duration) soakSample {
	pid := p.cmd.Process.Pid
	m := scrape(t, p)
	fds := openFDs(t, pid)
	return soakSample{at: at, rss: rssBytes(pid), heap: int64(sumValues(metricValues(m, "go_memstats_heap_inuse_bytes"))), fds: fds, goroutines: int(sumValues(metricValues(m, "go_goroutines"))),
		conns: int(sumValues(metricValues(m, "jindou_connections"))), sessions: c.tcpSessions.Load() + c.wsSessions.Load(),
		sends: c.sends.Load(), httpCall: c.httpCalls.Load()}
}

func soakRow(s soakSample) string {
	return fmt.Sprintf("| %7s | %7.1f | %8.1f | %4d | %10d | %5d | %8d | %7d | %6d |", s.at.Round(time.Second), float64(s.rss)/(1<<20), float64(s.heap)/(1<<20),
		s.fds, s.goroutines, s.conns, s.sessions, s.sends, s.httpCall)
}

func soakTable(samples []soakSample) string {
	var b strings.Builder
	b.WriteString("samples:\n|    time | RSS MiB | heap MiB |  fds | goroutines | conns | sessions |   sends |   http |\n")
	for _, s := range samples {
		b.WriteString(soakRow(s) + "\n")
	}
	return b.String()
}

func soakCheckLoad(t *testing.T, c *soakCounts, cuts float64) {
	t.Helper()
	if c.tcpSessions.Load() == 0 || c.wsSessions.Load() == 0 || c.acked.Load() == 0 || c.recvs.Load() == 0 {
		t.Errorf("the churn did not run over both transports")
	}
	if calls := c.httpCalls.Load(); calls == 0 || c.httpErrors.Load()*100 > calls {
		t.Errorf("%d of %d HTTP calls failed, want under 1 %%", c.httpErrors.Load(), calls)
	}
	if sessions := c.tcpSessions.Load() + c.wsSessions.Load(); c.dialErrors.Load()*100 > sessions {
		t.Errorf("%d of %d dials failed, want under 1 %%", c.dialErrors.Load(), sessions)
	}
	if seen := c.slowSeen.Load(); seen == 0 || cuts < float64(seen)/2 {
		t.Errorf("%v of %d slow readers cut (/metrics), want at least half", cuts, seen)
	}
}

// soakCheckDrift applies the drift bounds of the file's comment.
func soakCheckDrift(t *testing.T, samples []soakSample, warm time.Duration) {
	t.Helper()
	var after []soakSample
	for _, s := range samples {
		if s.at >= warm {
			after = append(after, s)
		}
	}
	if len(after) < 2*soakWindow {
		t.Fatalf("%d samples after the warm-up, want at least %d", len(after), 2*soakWindow)
	}
	first, last := after[:soakWindow], after[len(after)-soakWindow:]
	mean := func(ss []soakSample, f func(soakSample) float64) float64 {
		var sum float64
		for _, s := range ss {
			sum += f(s)
		}
		return sum / float64(len(ss))
	}
	check := func(what string, f func(soakSample) float64, slack float64) {
		base, end := mean(first, f), mean(last, f)
		t.Logf("%s: mean %.1f after the warm-up, %.1f at the end (%+.2f %%)", what, base, end, 100*(end-base)/base)
		if end > base*(1+soakMaxDrift)+slack {
			t.Errorf("%s drifted from %.1f to %.1f, over 5 %% + %v", what, base, end, slack)
		}
	}
	check("RSS MiB", func(s soakSample) float64 { return float64(s.rss) / (1 << 20) }, 0)
	check("goroutines", func(s soakSample) float64 { return float64(s.goroutines) }, soakSlack)
	check("descriptors net of connections", func(s soakSample) float64 { return float64(s.fds - s.conns) }, soakSlack)
}
