package linearize

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// bigHistory records a valid history of n operations over channels
// channels, from the same kind of sequential model as the rapid generator
// but drawn from a seeded PRNG: a new operation takes effect every 0.1 ms
// and spans up to 20 ms around that point, so about 200 are in flight at
// once. A tenth of the sends end unknown (half of those took effect),
// a twentieth are refused, a twentieth are resends; every stored message
// is pushed to one connection per channel.
func bigHistory(n, channels int, seed uint64) *Recorder {
	rng := rand.New(rand.NewPCG(seed, 0))
	r := NewRecorder()
	logs := make([][]Message, channels)
	type pending struct {
		call, ret time.Duration
		do        func(client string)
	}
	var ops []pending
	var now time.Duration
	id := int64(0)
	for i := range n {
		now += 100 * time.Microsecond
		c := rng.IntN(channels)
		ch := fmt.Sprintf("2:g%d", c)
		call := max(0, now-time.Duration(rng.IntN(10_000))*time.Microsecond)
		ret := now + time.Duration(rng.IntN(10_000))*time.Microsecond
		log := logs[c]
		var do func(client string)
		switch k := rng.IntN(100); {
		case k < 50: // send
			s := Send{Channel: ch, FromUID: "u1", ClientMsgNo: fmt.Sprintf("m%d", i)}
			outcome := rng.IntN(20)
			if outcome == 0 && len(log) > 0 { // a resend, answered with the original
				m := log[rng.IntN(len(log))]
				s.FromUID, s.ClientMsgNo = m.FromUID, m.ClientMsgNo
				do = func(cl string) { r.SendOK(r.CallSend(call, cl, s), ret, m.MessageID, m.Seq) }
				break
			}
			if outcome == 1 {
				do = func(cl string) { r.Failed(r.CallSend(call, cl, s), ret, "refused") }
				break
			}
			if outcome == 2 || outcome == 3 {
				if outcome == 2 {
					id++
					logs[c] = append(log, Message{Seq: uint64(len(log) + 1), MessageID: id, FromUID: s.FromUID, ClientMsgNo: s.ClientMsgNo})
				}
				do = func(cl string) { r.Unknown(r.CallSend(call, cl, s), ret) }
				break
			}
			id++
			m := Message{Seq: uint64(len(log) + 1), MessageID: id, FromUID: s.FromUID, ClientMsgNo: s.ClientMsgNo}
			logs[c] = append(log, m)
			do = func(cl string) { r.SendOK(r.CallSend(call, cl, s), ret, m.MessageID, m.Seq) }
		case k < 80: // sync
			req := SyncRequest{Channel: ch, Mode: PullMode(rng.IntN(2)), Limit: uint64(rng.IntN(20))}
			if rng.IntN(2) == 0 {
				req.Start = uint64(rng.IntN(len(log) + 2))
			}
			first, count := SyncWindow(req, uint64(len(log)))
			got := slices.Clone(log[min(first-1, uint64(len(log))) : min(first-1, uint64(len(log)))+count])
			do = func(cl string) { r.SyncOK(r.CallSync(call, cl, req), ret, got) }
		default: // max seq
			tail := uint64(len(log))
			do = func(cl string) { r.MaxSeqOK(r.CallMaxSeq(call, cl, ch), ret, tail) }
		}
		ops = append(ops, pending{call, ret, do})
	}
	slices.SortStableFunc(ops, func(a, b pending) int { return int(a.call - b.call) })
	var freeAt []time.Duration
	for _, o := range ops {
		c := slices.IndexFunc(freeAt, func(t time.Duration) bool { return t <= o.call })
		if c < 0 {
			c = len(freeAt)
			freeAt = append(freeAt, 0)
		}
		freeAt[c] = o.ret
		o.do(fmt.Sprintf("c%d", c))
	}
	for c, log := range logs {
		ch := fmt.Sprintf("2:g%d", c)
		for _, m := range log {
			r.Received(now, "k-"+ch, ch, m)
		}
		r.FinalLog(ch, log)
	}
	return r
}

func TestLargeHistoryPasses(t *testing.T) {
	rep := check(t, bigHistory(10_000, 50, 1), Options{})
	mustPass(t, rep)
	t.Log(rep)
}

func TestManyOperationsInFlightOnOneChannelCheckQuickly(t *testing.T) {
	rep := check(t, bigHistory(3_000, 1, 2), Options{Timeout: 10 * time.Second})
	mustPass(t, rep)
	t.Log(rep)
}

func BenchmarkCheck10kOps50Channels(b *testing.B) { benchmarkCheck(b, 10_000, 50) }

// Five channels: about 40 operations in flight per channel.
func BenchmarkCheck10kOps5Channels(b *testing.B) { benchmarkCheck(b, 10_000, 5) }

// One channel, about 200 operations in flight: without tighten porcupine
// does not finish this (nor a 500-op prefix of it) in 10 s.
func BenchmarkCheck10kOps1Channel(b *testing.B) { benchmarkCheck(b, 10_000, 1) }

func benchmarkCheck(b *testing.B, n, channels int) {
	r := bigHistory(n, channels, 1)
	dir := b.TempDir()
	var porcupine time.Duration
	for b.Loop() {
		rep := r.Check(Options{VisualizeDir: dir})
		if !rep.OK {
			b.Fatal(rep)
		}
		porcupine += rep.CheckDuration
	}
	b.ReportMetric(float64(porcupine.Microseconds())/float64(b.N)/1000, "porcupine-ms/op")
}
