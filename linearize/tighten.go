package linearize

import (
	"fmt"
	"math"
	"time"

	"github.com/anishathalye/porcupine"
)

// Porcupine searches depth first, linearizing the first operation in time
// order that can step. With many reads in flight on one channel that
// greed goes wrong: it appends seq k+1 while a read that must see tail k is
// still pending, then backtracks through every subset of the reads it
// linearized meanwhile — exponential in the reads in flight. (A 500-op
// channel with ~200 ops in flight did not finish in 10 s.)
//
// tighten removes that trap without changing the verdict. In this model
// every append has a known seq, so a linearization is a choice of points
// t_1 ≤ t_2 ≤ … ≤ t_N at which seqs 1..N are appended, plus a point for
// every read. Each operation bounds those points:
//
//   - every send that may append seq s (acked, or unknown and stored, at s)
//     takes effect at or after t_s, as its appender or as a deduplicated
//     resend that reads tail ≥ s: so t_s ≤ its return, and t_s ≥ the
//     earliest call among them;
//   - a read that needs a tail in [a, b] (a max-seq read: [v, v]; a sync:
//     every tail for which SyncWindow gives its answer) happens between t_a
//     and t_{b+1}: so t_a ≤ its return and t_{b+1} ≥ its call.
//
// Propagated along t_1 ≤ … ≤ t_N, these give each t_s a window [L_s, U_s]
// that every linearization respects. Each operation's interval is then cut
// to the part of it that some linearization can use: an append of s to
// [max(call, L_s), min(return, U_s)] (only the call for a group of
// resends, whose members may read later), a read to [max(call, L_a),
// min(return, U_{b+1})]. Every linearization of the original history is a
// linearization of the tightened one and conversely (tightening only adds
// real-time constraints that every linearization already meets), so the
// verdict is the same; but now a read that must precede append k+1 is
// called before it, and porcupine's greed is right.
//
// Ties: times are scaled by 4 so that at one instant read calls come
// first, then append calls, then returns. Porcupine's closed intervals are
// kept: a return at t and a call at t still overlap.
//
// If some window is empty (L_s > U_s, a read needing a tail that is never
// reached, a sync answer no tail explains), no linearization exists:
// tighten leaves the channel's operations as they were (porcupine will
// find it Illegal, or time out) and says why.
func tighten(ops []porcupine.Operation, h *history) (why string, ok bool) {
	type bound struct {
		at time.Duration
		by int // index in ops that set it, -1 for none
	}
	// N: the highest seq any operation appends.
	var n uint64
	for _, o := range ops {
		if in := o.Input.(*input); in.kind == opSend {
			n = max(n, o.Output.(*output).msg.Seq)
		}
	}
	if n > uint64(len(ops)) {
		return fmt.Sprintf("sends return seqs up to %d but only %d operations could append", n, len(ops)), false
	}
	lo := make([]bound, n+2) // lo[s]: t_s ≥ lo[s].at
	hi := make([]bound, n+2) // hi[s]: t_s ≤ hi[s].at
	count := make([]int, n+2)
	for s := range lo {
		lo[s] = bound{Forever, -1} // lowered to the earliest call below
		hi[s] = bound{Forever, -1}
	}
	for i, o := range ops {
		in, out := o.Input.(*input), o.Output.(*output)
		if in.kind != opSend {
			continue
		}
		s := out.msg.Seq
		if s == 0 {
			return h.describe(in.op) + " returns seq 0", false
		}
		count[s]++
		if call := time.Duration(o.Call); call < lo[s].at {
			lo[s] = bound{call, i}
		}
		if ret := time.Duration(o.Return); ret < hi[s].at {
			hi[s] = bound{ret, i}
		}
	}
	ranges := make([][2]uint64, len(ops)) // reads: the tails [a, b] they accept
	for i, o := range ops {
		in, out := o.Input.(*input), o.Output.(*output)
		if in.kind == opSend {
			continue
		}
		call, ret := time.Duration(o.Call), time.Duration(o.Return)
		a, b, ok := tailRange(in, out, n)
		if !ok {
			return h.describe(in.op) + " returns an answer no tail explains", false
		}
		if a > n {
			return fmt.Sprintf("%s needs a tail of at least %d, but no send appends past %d", h.describe(in.op), a, n), false
		}
		ranges[i] = [2]uint64{a, b}
		if a >= 1 && ret < hi[a].at {
			hi[a] = bound{ret, i}
		}
		if b < n && call > lo[b+1].at {
			lo[b+1] = bound{call, i}
		}
	}
	for s := uint64(1); s <= n; s++ {
		if count[s] == 0 {
			return fmt.Sprintf("no send appends seq %d, but seqs up to %d are appended", s, n), false
		}
	}
	for s := uint64(2); s <= n; s++ {
		if lo[s-1].at > lo[s].at {
			lo[s] = lo[s-1]
		}
	}
	for s := n; s > 1; s-- {
		if hi[s].at < hi[s-1].at {
			hi[s-1] = hi[s]
		}
	}
	for s := uint64(1); s <= n; s++ {
		if lo[s].at > hi[s].at {
			return fmt.Sprintf("seq %d must be appended at or after %s, because of %s, and at or before %s, because of %s",
				s, fmtTime(lo[s].at), h.describe(ops[lo[s].by].Input.(*input).op),
				fmtTime(hi[s].at), h.describe(ops[hi[s].by].Input.(*input).op)), false
		}
	}
	for i := range ops {
		o := &ops[i]
		in, out := o.Input.(*input), o.Output.(*output)
		call, ret := time.Duration(o.Call), time.Duration(o.Return)
		first := 0 // rank of the call among calls at one instant
		if in.kind == opSend {
			s := out.msg.Seq
			call = max(call, lo[s].at)
			if count[s] == 1 {
				ret = min(ret, hi[s].at)
			}
			first = 1
		} else {
			a, b := ranges[i][0], ranges[i][1]
			if a >= 1 {
				call = max(call, lo[a].at)
			}
			if b < n {
				ret = min(ret, hi[b+1].at)
			}
		}
		o.Call = scale(call, first)
		o.Return = scale(ret, 3)
	}
	return "", true
}

// scaleOnly puts untightened operations on the same time line.
func scaleOnly(ops []porcupine.Operation) {
	for i := range ops {
		o := &ops[i]
		rank := 0
		if o.Input.(*input).kind == opSend {
			rank = 1
		}
		o.Call = scale(time.Duration(o.Call), rank)
		o.Return = scale(time.Duration(o.Return), 3)
	}
}

// scale maps a virtual time to porcupine's time line: 4t + rank, Forever
// staying last.
func scale(t time.Duration, rank int) int64 {
	if t == Forever {
		return math.MaxInt64
	}
	return int64(t)*4 + int64(rank)
}

// tailRange returns the tails [a, b] at which read in can return out (b is
// math.MaxUint64 for no bound), given that tails never exceed n; ok is
// false if none can.
func tailRange(in *input, out *output, n uint64) (a, b uint64, ok bool) {
	if in.kind == opMaxSeq {
		return out.tail, out.tail, true
	}
	if !in.shapeOK {
		return 0, 0, false
	}
	gives := func(tail uint64) bool {
		first, count := SyncWindow(in.req, tail)
		return count == in.count && (count == 0 || first == in.first)
	}
	if in.count > 0 {
		// The answer ends at its last seq: the tail is that seq, or any
		// tail past it if the range was cut by End or Limit.
		last := in.first + in.count - 1
		switch {
		case !gives(last):
			return 0, 0, false
		case gives(last + 1):
			return last, math.MaxUint64, true
		}
		return last, last, true
	}
	// Empty: windows only grow with the tail, so the tails giving an empty
	// answer are 0..b.
	if gives(n) {
		return 0, math.MaxUint64, true
	}
	b = 0
	for l, r := uint64(0), n; l <= r; { // the largest tail in [0, n] giving it
		m := l + (r-l)/2
		if gives(m) {
			b, l = m, m+1
		} else if m == 0 {
			break
		} else {
			r = m - 1
		}
	}
	return 0, b, gives(0)
}
