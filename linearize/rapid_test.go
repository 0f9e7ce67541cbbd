package linearize

import (
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

func TestGeneratedHistoriesPass(t *testing.T) {
	dir := t.TempDir()
	rapid.Check(t, func(t *rapid.T) {
		g := generate(t)
		rep := g.record().Check(Options{VisualizeDir: dir})
		if !rep.OK {
			t.Fatalf("valid history rejected:\n%s", rep)
		}
	})
}

// A mutation breaks one property of a valid history, if it applies to it;
// the checker must then report a violation of kind.
type mutation struct {
	kind  Kind
	apply func(t *rapid.T, g *gen) bool // false: does not apply
}

var mutations = map[string]mutation{
	// An acknowledged message is missing from the final log.
	"lose an acked write": {LostAcknowledged, func(t *rapid.T, g *gen) bool {
		i, ok := drawOp(t, g, func(o gop) bool { return o.kind == opSend && o.outcome == OK })
		if !ok {
			return false
		}
		o := g.ops[i]
		g.logs[o.channel] = slices.DeleteFunc(g.logs[o.channel], func(m Message) bool { return m.Seq == o.msg.Seq })
		return true
	}},
	// An ack carries another message's id.
	"ack the wrong id": {TwoMessagesAtSeq, func(t *rapid.T, g *gen) bool {
		i, ok := drawOp(t, g, func(o gop) bool { return o.kind == opSend && o.outcome == OK })
		if ok {
			g.ops[i].msg.MessageID = 1
		}
		return ok
	}},
	// A message is stored again under a new seq.
	"store a message twice": {DuplicateStored, func(t *rapid.T, g *gen) bool {
		ch := rapid.SampledFrom(g.channels).Draw(t, "channel")
		log := g.logs[ch]
		if len(log) == 0 {
			return false
		}
		m := rapid.SampledFrom(log).Draw(t, "stored again")
		m.Seq, m.MessageID = uint64(len(log)+1), 1
		g.logs[ch] = append(log, m)
		return true
	}},
	// The last message of a log moves one seq up.
	"leave a gap": {Gap, func(t *rapid.T, g *gen) bool {
		ch := rapid.SampledFrom(g.channels).Draw(t, "channel")
		log := g.logs[ch]
		if len(log) == 0 {
			return false
		}
		log[len(log)-1].Seq++
		return true
	}},
	// A sync answer loses its first message. (Dropping the only one could
	// be legal: a sync concurrent with that message's send.)
	"sync misses a message": {NotLinearizable, func(t *rapid.T, g *gen) bool {
		i, ok := drawOp(t, g, func(o gop) bool { return o.kind == opSync && o.outcome == OK && len(o.msgs) >= 2 })
		if ok {
			g.ops[i].msgs = g.ops[i].msgs[1:]
		}
		return ok
	}},
	// A max-seq read returns less than a seq acknowledged before its call.
	"max-seq reads stale": {NotLinearizable, func(t *rapid.T, g *gen) bool {
		i, ok := drawOp(t, g, func(r gop) bool {
			return r.kind == opMaxSeq && r.outcome == OK && ackedBefore(g, r) > 0
		})
		if ok {
			g.ops[i].tail = ackedBefore(g, g.ops[i]) - 1
		}
		return ok
	}},
	// A max-seq read returns more than was ever stored.
	"max-seq reads the future": {NotLinearizable, func(t *rapid.T, g *gen) bool {
		i, ok := drawOp(t, g, func(o gop) bool { return o.kind == opMaxSeq && o.outcome == OK })
		if ok {
			g.ops[i].tail = uint64(len(g.logs[g.ops[i].channel]) + 1)
		}
		return ok
	}},
	// A connection gets, after a higher seq, a message it never got.
	"push out of order": {PushOutOfOrder, func(t *rapid.T, g *gen) bool {
		type cand struct {
			p gpush
			m Message
		}
		var cands []cand
		for _, p := range g.pushes {
			for _, m := range g.logs[p.channel] {
				if m.Seq < p.msg.Seq && !slices.ContainsFunc(g.pushes, func(q gpush) bool {
					return q.conn == p.conn && q.channel == p.channel && q.msg.Seq == m.Seq
				}) {
					cands = append(cands, cand{p, m})
				}
			}
		}
		if len(cands) == 0 {
			return false
		}
		c := rapid.SampledFrom(cands).Draw(t, "late push")
		g.pushes = append(g.pushes, gpush{c.p.at, c.p.conn, c.p.channel, c.m})
		return true
	}},
	// A RECV shows a payload other than the one sent and stored.
	"RECV a corrupted payload": {WrongContent, func(t *rapid.T, g *gen) bool {
		if len(g.pushes) == 0 {
			return false
		}
		i := rapid.IntRange(0, len(g.pushes)-1).Draw(t, "push")
		g.pushes[i].msg.Payload += "!"
		return true
	}},
	// A sync answer lists its messages newest first.
	"sync answers in reverse": {SyncOutOfOrder, func(t *rapid.T, g *gen) bool {
		i, ok := drawOp(t, g, func(o gop) bool { return o.kind == opSync && o.outcome == OK && len(o.msgs) >= 2 })
		if ok {
			g.ops[i].msgs = slices.Clone(g.ops[i].msgs)
			slices.Reverse(g.ops[i].msgs)
		}
		return ok
	}},
	// A connection gets a message past the end of the stored log.
	"RECV a message never stored": {NotStored, func(t *rapid.T, g *gen) bool {
		ch := rapid.SampledFrom(g.channels).Draw(t, "channel")
		m := Message{Seq: uint64(len(g.logs[ch]) + 5), MessageID: 3, FromUID: "ghost", ClientMsgNo: "boo"}
		g.pushes = append(g.pushes, gpush{g.now, "k-ghost", ch, m})
		return true
	}},
	// The final log holds a message nobody sent.
	"store a phantom": {Phantom, func(t *rapid.T, g *gen) bool {
		ch := rapid.SampledFrom(g.channels).Draw(t, "channel")
		g.logs[ch] = append(g.logs[ch], Message{Seq: uint64(len(g.logs[ch]) + 1), MessageID: 2, FromUID: "ghost", ClientMsgNo: "boo"})
		return true
	}},
}

// ackedBefore is the highest seq acknowledged in r's channel before r's call.
func ackedBefore(g *gen, r gop) uint64 {
	var seq uint64
	for _, o := range g.ops {
		if o.kind == opSend && o.outcome == OK && o.channel == r.channel && o.ret < r.call {
			seq = max(seq, o.msg.Seq)
		}
	}
	return seq
}

// drawOp draws an operation satisfying ok.
func drawOp(t *rapid.T, g *gen, ok func(gop) bool) (int, bool) {
	var idx []int
	for i, o := range g.ops {
		if ok(o) {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return 0, false
	}
	return rapid.SampledFrom(idx).Draw(t, "op"), true
}

func TestMutatedHistoriesFail(t *testing.T) {
	names := make([]string, 0, len(mutations))
	for name := range mutations {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		mut := mutations[name]
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			applied := 0
			rapid.Check(t, func(t *rapid.T) {
				g := generate(t)
				if !mut.apply(t, g) {
					t.Skip("does not apply")
				}
				applied++
				rep := g.record().Check(Options{VisualizeDir: dir})
				for _, v := range rep.Violations {
					if v.Kind == mut.kind {
						return
					}
				}
				t.Fatalf("mutation %q not caught as %q:\n%s", name, mut.kind, rep)
			})
			if applied == 0 {
				t.Fatalf("mutation %q never applied", name)
			}
		})
	}
}

// Tightening the intervals (tighten) must not change porcupine's verdict:
// on generated histories, valid or with a random result changed, the
// verdict with tightening is the verdict without.
func TestTighteningPreservesTheVerdict(t *testing.T) {
	dir := t.TempDir()
	verdicts := map[string]int{}
	rapid.Check(t, func(t *rapid.T) {
		g := generate(t)
		switch rapid.IntRange(0, 4).Draw(t, "perturbation") {
		case 1:
			if i, ok := drawOp(t, g, func(o gop) bool { return o.kind == opMaxSeq }); ok {
				g.ops[i].tail = rapid.Uint64Range(0, uint64(len(g.logs[g.ops[i].channel])+1)).Draw(t, "tail")
			}
		case 2:
			if i, ok := drawOp(t, g, func(o gop) bool { return o.kind == opSend && o.outcome == OK }); ok {
				g.ops[i].msg.Seq = rapid.Uint64Range(1, uint64(len(g.logs[g.ops[i].channel])+1)).Draw(t, "seq")
			}
		case 3:
			if i, ok := drawOp(t, g, func(o gop) bool { return o.kind == opSync && len(o.msgs) > 0 }); ok {
				j := rapid.IntRange(0, len(g.ops[i].msgs)-1).Draw(t, "dropped")
				g.ops[i].msgs = slices.Delete(slices.Clone(g.ops[i].msgs), j, j+1)
			}
		case 4:
			if i, ok := drawOp(t, g, func(o gop) bool { return o.outcome == OK }); ok {
				// Move the operation: its result now belongs to another time.
				d := ms(rapid.IntRange(-20, 20).Draw(t, "shift"))
				g.ops[i].call, g.ops[i].ret = max(0, g.ops[i].call+d), max(0, g.ops[i].ret+d)
			}
		}
		r := g.record()
		tight := r.Check(Options{VisualizeDir: dir})
		loose := r.Check(Options{VisualizeDir: dir, noTighten: true})
		if tight.Linearizable != loose.Linearizable || loose.Linearizable == "Unknown" {
			t.Fatalf("porcupine says %s with tightening, %s without:\n%s\n%s", tight.Linearizable, loose.Linearizable, tight, loose)
		}
		for _, v := range tight.Violations {
			if strings.Contains(v.Detail, "checker bug") {
				t.Fatal(v)
			}
		}
		verdicts[tight.Linearizable]++
	})
	if verdicts["Ok"] == 0 || verdicts["Illegal"] == 0 {
		t.Fatalf("verdicts %v: want both kinds", verdicts)
	}
	t.Logf("verdicts: %v", verdicts)
}
