package linearize

import (
	"context"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/anishathalye/porcupine"
)

// Options tune Check. The zero value is usable.
type Options struct {
	// Timeout bounds porcupine's search (wall time); a search that does not
	// finish fails the check. Default 30 s.
	Timeout time.Duration
	// DeliveryBound enables the liveness check: a message acknowledged
	// while a connection was subscribed (Recorder.Subscribed) must reach it
	// within this much virtual time of the ack. 0 disables it; record
	// subscriptions only for the phase where delivery is due (after the
	// faults healed).
	DeliveryBound time.Duration
	// VisualizeDir is where a failed check writes porcupine's HTML
	// visualization. Default os.TempDir().
	VisualizeDir string
	// Name starts the visualization's file name (e.g. "seed-42"); the rest
	// is a digest of the history. Default "linearize".
	Name string

	noTighten bool // tests: give porcupine the intervals as recorded
	// stall (tests): every step of porcupine's search waits until the
	// search is cancelled, so it cannot decide before Timeout, however
	// fast the machine.
	stall bool
}

// DefaultTimeout is Options.Timeout's default.
const DefaultTimeout = 30 * time.Second

// Check checks the recorded history: porcupine's linearizability check of
// each channel against the append-only log model (after resolving unknown
// sends from the final logs) and the invariants. It does not change the
// Recorder. It returns a report whose OK is false if anything failed,
// including a porcupine timeout.
func (r *Recorder) Check(opts Options) Report {
	r.mu.Lock()
	h := r.snapshot()
	r.mu.Unlock()
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.VisualizeDir == "" {
		opts.VisualizeDir = os.TempDir()
	}
	if opts.Name == "" {
		opts.Name = "linearize"
	}

	rep := Report{Ops: len(h.ops), Pushes: len(h.pushes), Restarts: len(h.restarts)}
	withOps := map[string]bool{}
	for _, o := range h.ops {
		withOps[o.channel] = true
		switch o.kind {
		case opSend:
			rep.Sends++
			switch o.outcome {
			case OK:
				rep.Acked++
			case Failed:
				rep.Failed++
			default:
				rep.Unknown++
			}
		case opSync:
			rep.Syncs++
		case opMaxSeq:
			rep.MaxSeqs++
		}
	}
	for _, ch := range h.channels {
		if withOps[ch] && h.refs[ch] == nil {
			rep.Violations = append(rep.Violations, Violation{FinalLogMissing, ch, 0,
				"the channel has operations but no final log was supplied (Recorder.FinalLog), so it was not checked"})
		}
		if h.refs[ch] != nil {
			rep.Channels++
		}
	}

	var ops []porcupine.Operation
	why := map[string]string{} // channel → why tighten found no linearization
	for _, chOps := range h.resolve(&rep) {
		ok := false
		if !opts.noTighten {
			var w string
			if w, ok = tighten(chOps, h); w != "" {
				why[chOps[0].Input.(*input).ref.channel] = w
			}
		}
		if !ok {
			scaleOnly(chOps)
		}
		ops = append(ops, chOps...)
	}
	search := model
	if opts.stall {
		search.Step = nil
		search.StepContext = func(ctx context.Context, s, _, _ any) (bool, any) {
			<-ctx.Done()
			return false, s
		}
	}
	start := time.Now()
	result, info := porcupine.CheckOperationsVerbose(search, ops, opts.Timeout)
	rep.CheckDuration = time.Since(start)
	rep.Linearizable = string(result)
	switch result {
	case porcupine.Illegal, porcupine.Ok:
		rep.Violations = append(rep.Violations, h.explain(ops, info, why)...)
	case porcupine.Unknown:
		rep.Violations = append(rep.Violations, Violation{CheckTimedOut, "*", 0, fmt.Sprintf(
			"porcupine did not decide within %v; a history it cannot decide fails", opts.Timeout)})
		for _, ch := range h.channels {
			if w, ok := why[ch]; ok {
				rep.Violations = append(rep.Violations, Violation{NotLinearizable, ch, 0, "no linearization exists: " + w})
			}
		}
	}

	rep.Violations = append(rep.Violations, checkLogs(h)...)
	rep.Violations = append(rep.Violations, checkOneMessagePerSeq(h)...)
	rep.Violations = append(rep.Violations, checkAcknowledged(h)...)
	rep.Violations = append(rep.Violations, checkSeenWereStored(h)...)
	rep.Violations = append(rep.Violations, checkSeenWereSent(h)...)
	rep.Violations = append(rep.Violations, checkSyncOrder(h)...)
	rep.Violations = append(rep.Violations, checkPushOrder(h)...)
	if opts.DeliveryBound > 0 {
		rep.Violations = append(rep.Violations, checkDelivery(h, opts.DeliveryBound)...)
	}
	rep.OK = len(rep.Violations) == 0
	if !rep.OK {
		path := filepath.Join(opts.VisualizeDir, fmt.Sprintf("%s-%016x.html", opts.Name, h.digest()))
		info.AddAnnotations(h.annotations())
		if err := porcupine.VisualizePath(model, info, path); err != nil {
			rep.Visualization = "(not written: " + err.Error() + ")"
		} else {
			rep.Visualization = path
		}
	}
	return rep
}

// explain names the channels porcupine could not linearize: for each, how
// far the longest linearizable prefix got, the state it left, the
// earliest-called operation that could not come next, and why tighten
// found no linearization. A channel tighten gave up on but porcupine
// linearized is a bug of this package, and is reported too.
func (h *history) explain(ops []porcupine.Operation, info porcupine.LinearizationInfo, why map[string]string) []Violation {
	parts := model.Partition(ops)
	partials := info.PartialLinearizations()
	var vs []Violation
	for p, part := range parts {
		if p >= len(partials) {
			break
		}
		// The longest partial linearization; ties broken by content, so
		// the report does not depend on porcupine's map order.
		var best []int
		for _, l := range partials[p] {
			if len(l) > len(best) || (len(l) == len(best) && slices.Compare(l, best) < 0) {
				best = l
			}
		}
		ref := part[0].Input.(*input).ref
		w, tightenFailed := why[ref.channel]
		if len(best) == len(part) {
			if tightenFailed {
				vs = append(vs, Violation{NotLinearizable, ref.channel, 0,
					"checker bug: porcupine linearized the channel, but its interval bounds said no linearization exists: " + w})
			}
			continue
		}
		if tightenFailed {
			w = " Interval bounds: " + w + "."
		}
		s := model.Init().(state)
		in := make([]bool, len(part))
		for _, i := range best {
			in[i] = true
			_, next := step(s, part[i].Input.(*input), part[i].Output.(*output))
			s = next
		}
		stuck := -1
		for i := range part {
			if !in[i] && (stuck < 0 || part[i].Call < part[stuck].Call) {
				stuck = i
			}
		}
		o := part[stuck]
		vs = append(vs, Violation{NotLinearizable, ref.channel, 0, fmt.Sprintf(
			"porcupine linearized at most %d of its %d operations, leaving the log at tail %d; the earliest-called operation left out is %s, described to the model as %q.%s",
			len(best), len(part), s.tail, h.describe(o.Input.(*input).op), describeStep(o.Input.(*input), o.Output.(*output)), w)})
	}
	return vs
}

// annotations mark restarts in the visualization.
func (h *history) annotations() []porcupine.Annotation {
	var as []porcupine.Annotation
	for _, rs := range h.restarts {
		as = append(as, porcupine.Annotation{
			Tag: "restarts", Start: scale(rs.at, 0), Description: "restart " + rs.node,
			Details: fmt.Sprintf("node %s restarted at %s", rs.node, fmtTime(rs.at)),
		})
	}
	return as
}

// digest is a hash of the history, naming its visualization file: the same
// history gives the same name.
func (h *history) digest() uint64 {
	d := fnv.New64a()
	for i := range h.ops {
		fmt.Fprintln(d, h.describe(OpID(i)))
	}
	for _, p := range h.pushes {
		fmt.Fprintln(d, p.at, p.conn, p.channel, p.msg)
	}
	for _, ch := range h.channels {
		fmt.Fprintln(d, ch, h.final[ch])
	}
	for _, rs := range h.restarts {
		fmt.Fprintln(d, rs.at, rs.node, rs.logs)
	}
	return d.Sum64()
}
