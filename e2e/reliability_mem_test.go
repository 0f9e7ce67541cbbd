package e2e

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/wkclient"
)

// Slow readers against the memory budget, on the real binary: a busy
// group whose members include clients that never read their socket. They
// must be cut (DISCONNECT, counted by cause in /metrics) before the node's
// memory grows or the members that do read slow down.
//
// The CI scale is small; the measurement (200 never-reading
// clients, peak RSS under 400 MiB, the fast readers' p99 within 2x of the
// run without them) runs with
//
//	E2E_MEM_FULL=1 go test ./e2e -run TestSlowReadersAreCutBeforeMemoryGrowsOrFastReadersSlow -v -timeout 10m
//
// It reports the fast readers' p99 of the whole run, of the first 5 s
// (while the slow readers are being cut) and of the rest; E2E_MEM_ENV
// passes JINDOU_ settings to the node (space-separated), for experiments.

// memLoad is one run's shape.
type memLoad struct {
	fast, slow, senders int
	rate                int // SENDs per second per sender
	payload             int
	run                 time.Duration
}

func memLoadFromEnv() memLoad {
	if os.Getenv("E2E_MEM_FULL") != "" {
		return memLoad{fast: 20, slow: 200, senders: 4, rate: 50, payload: 512, run: 20 * time.Second}
	}
	return memLoad{fast: 4, slow: 16, senders: 2, rate: 50, payload: 1024, run: 4 * time.Second}
}

// memResult is what one run measured.
type memResult struct {
	sent, acked, delivered int64
	p50, p99, max          time.Duration
	// earlyP99 is the p99 of the sends in the first 5 s (while the slow
	// readers are being cut), lateP99 of those after (they are cut by
	// then).
	earlyP99, lateP99 time.Duration
	peakRSS           int64
	fastCut           int64
	metrics           string
}

func TestSlowReadersAreCutBeforeMemoryGrowsOrFastReadersSlow(t *testing.T) {
	load := memLoadFromEnv()
	base := runMemLoad(t, load, false)
	with := runMemLoad(t, load, true)
	t.Logf("load: %+v", load)
	for _, r := range []struct {
		name string
		r    memResult
	}{{"without slow readers", base}, {"with slow readers", with}} {
		t.Logf("%s: sent %d acked %d delivered %d; fast readers' delivery latency p50 %v p99 %v max %v (p99 in the first 5 s %v, after them %v); peak RSS %.1f MiB",
			r.name, r.r.sent, r.r.acked, r.r.delivered, r.r.p50, r.r.p99, r.r.max, r.r.earlyP99, r.r.lateP99, float64(r.r.peakRSS)/(1<<20))
	}
	if base.fastCut != 0 {
		t.Errorf("%d fast readers were disconnected without slow readers: the load is too much for this machine", base.fastCut)
	}
	cuts := metricValues(with.metrics, "jindou_slow_reader_cuts_total")
	t.Logf("slow-reader cuts by cause: %v", cuts)
	var total float64
	for _, v := range cuts {
		total += v
	}
	if int(total) < load.slow {
		t.Errorf("%v slow readers cut, want all %d", total, load.slow)
	}
	if with.fastCut != 0 {
		t.Errorf("%d fast readers were disconnected", with.fastCut)
	}
	want := with.acked * int64(load.fast)
	if with.delivered < want {
		t.Errorf("the fast readers got %d deliveries of %d acknowledged sends × %d readers", with.delivered, with.acked, load.fast)
	}
	if with.peakRSS > 400<<20 {
		t.Errorf("peak RSS %.1f MiB with slow readers, over 400 MiB", float64(with.peakRSS)/(1<<20))
	}
	if os.Getenv("E2E_MEM_FULL") != "" && with.p99 > 2*base.p99 {
		t.Errorf("the fast readers' p99 %v with slow readers, over twice the %v without", with.p99, base.p99)
	}
	if os.Getenv("E2E_MEM_FULL") != "" && with.earlyP99 > 2*base.earlyP99 {
		t.Errorf("the fast readers' p99 in the first 5 s %v with slow readers, over twice the %v without", with.earlyP99, base.earlyP99)
	}
}

// runMemLoad starts a node, a group of fast readers and senders (and slow
// readers if asked), runs the load and measures it.
func runMemLoad(t *testing.T, load memLoad, slow bool) memResult {
	p := startNode(t, nodeOpts{env: strings.Fields(os.Getenv("E2E_MEM_ENV"))})
	var uids []string
	for i := range load.senders {
		uids = append(uids, fmt.Sprintf("send%d", i))
	}
	for i := range load.fast {
		uids = append(uids, fmt.Sprintf("fast%d", i))
	}
	if slow {
		for i := range load.slow {
			uids = append(uids, fmt.Sprintf("slow%d", i))
		}
	}
	p.mustPost("/channel", map[string]any{"channel_id": "busy", "channel_type": 2, "subscribers": uids}, nil)
	var res memResult
	var wg sync.WaitGroup
	stop := make(chan struct{})
	lat := make([][]time.Duration, load.fast) // each reader's own
	early := make([][]time.Duration, load.fast)
	late := make([][]time.Duration, load.fast)
	warm := time.Now().Add(5 * time.Second)
	for i := range load.fast {
		c := dialMem(t, p, fmt.Sprintf("fast%d", i))
		wg.Add(1)
		go func() { defer wg.Done(); lat[i], early[i], late[i] = readFast(c, &res, warm) }()
	}
	if slow {
		for i := range load.slow {
			c := dialMem(t, p, fmt.Sprintf("slow%d", i))
			if tc, ok := c.Conn().(*net.TCPConn); ok {
				_ = tc.SetReadBuffer(4 << 10) // and never read: the kernel takes little
			}
		}
	}
	rss := sampleRSS(p.cmd.Process.Pid, stop)
	var send sync.WaitGroup
	for i := range load.senders {
		c := dialMem(t, p, fmt.Sprintf("send%d", i))
		send.Add(1)
		go func() { defer send.Done(); sendPaced(c, load, &res) }()
	}
	send.Wait()
	time.Sleep(2 * time.Second) // the last deliveries
	close(stop)
	res.peakRSS = <-rss
	res.metrics = scrape(t, p)
	p.signal(15)
	p.wait(30 * time.Second)
	wg.Wait()
	res.p50, res.p99, res.max = quantiles(slices.Concat(lat...))
	_, res.earlyP99, _ = quantiles(slices.Concat(early...))
	_, res.lateP99, _ = quantiles(slices.Concat(late...))
	return res
}

func dialMem(t *testing.T, p *proc, uid string) *wkclient.NetClient {
	t.Helper()
	c, err := wkclient.DialTCP(p.TCP, wkclient.Options{UID: uid, DeviceFlag: proto.DeviceApp})
	if err != nil {
		t.Fatalf("%s: %v", uid, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// sendPaced sends load.rate SENDs a second for load.run, each payload
// starting with the send time, and reads the SENDACKs (and the group's
// RECVs, acknowledged).
func sendPaced(c *wkclient.NetClient, load memLoad, res *memResult) {
	done := make(chan struct{})
	var acked atomic.Int64
	go func() {
		defer close(done)
		for {
			pk, err := c.Next(time.Now().Add(10 * time.Second))
			if err != nil {
				return
			}
			switch pk := pk.(type) {
			case *proto.Sendack:
				if pk.ReasonCode == proto.ReasonSuccess {
					acked.Add(1)
				}
			case *proto.Recv:
				_ = c.Ack(pk)
			}
		}
	}()
	tick := time.NewTicker(time.Second / time.Duration(load.rate))
	defer tick.Stop()
	end := time.Now().Add(load.run)
	var sent int64
	payload := make([]byte, load.payload)
	for now := range tick.C {
		if now.After(end) {
			break
		}
		binary.BigEndian.PutUint64(payload, uint64(time.Now().UnixNano()))
		if _, err := c.Send("busy", proto.ChannelGroup, "", payload); err != nil {
			break
		}
		sent++
	}
	time.Sleep(time.Second)
	c.Close()
	<-done
	atomic.AddInt64(&res.sent, sent)
	atomic.AddInt64(&res.acked, acked.Load())
}

// readFast reads and acknowledges every RECV at once, and returns the
// delivery latency of each, of those sent before warm and of those after.
func readFast(c *wkclient.NetClient, res *memResult, warm time.Time) (lat, early, late []time.Duration) {
	for {
		pk, err := c.Next(time.Now().Add(15 * time.Second))
		if err != nil {
			return lat, early, late
		}
		switch pk := pk.(type) {
		case *proto.Recv:
			_ = c.Ack(pk)
			if plain, err := c.Open(pk); err == nil && len(plain) >= 8 {
				at := time.Unix(0, int64(binary.BigEndian.Uint64(plain)))
				lat = append(lat, time.Since(at))
				if at.After(warm) {
					late = append(late, time.Since(at))
				} else {
					early = append(early, time.Since(at))
				}
				atomic.AddInt64(&res.delivered, 1)
			}
		case *proto.Disconnect:
			if !strings.Contains(pk.Reason, "shutting down") {
				atomic.AddInt64(&res.fastCut, 1)
			}
			return lat, early, late
		}
	}
}

// quantiles are the median, 99th percentile and largest of d.
func quantiles(d []time.Duration) (p50, p99, highest time.Duration) {
	if len(d) == 0 {
		return 0, 0, 0
	}
	slices.Sort(d)
	at := func(q float64) time.Duration { return d[min(len(d)-1, int(q*float64(len(d))))] }
	return at(0.5), at(0.99), d[len(d)-1]
}

// sampleRSS reads the process's resident set every 50 ms until stop and
// sends the largest seen.
func sampleRSS(pid int, stop <-chan struct{}) <-chan int64 {
	out := make(chan int64, 1)
	go func() {
		var peak int64
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			peak = max(peak, rssBytes(pid))
			select {
			case <-stop:
				out <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return out
}

// rssBytes is VmRSS of pid, or 0.
func rssBytes(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// scrape reads /metrics.
func scrape(t *testing.T, p *proc) string {
	t.Helper()
	resp, err := httpClient.Get(p.HTTP + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// metricValues are the samples of a metric family by their label set.
func metricValues(text, name string) map[string]float64 {
	out := map[string]float64{}
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `(\{[^}]*\})? (\S+)$`)
	for _, m := range re.FindAllStringSubmatch(text, -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		out[m[1]] = v
	}
	return out
}
