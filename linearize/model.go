package linearize

import (
	"fmt"
	"strings"

	"github.com/anishathalye/porcupine"
)

// The model: each channel is an append-only log. Its state is constant in
// size, a tail seq and a chained hash of the ids appended, so porcupine's
// cache of (linearized set, state) stays cheap however long the log grows.
// Identity of what reads return is checked against the channel's final
// stored log (the reference), which every input carries.

// state is one channel's log as the model knows it.
type state struct {
	tail uint64 // the log holds seqs 1..tail
	hash uint64 // chain over the message ids at 1..tail, in seq order
}

// hashSeed is the hash of the empty log (FNV-1a's offset basis).
const hashSeed uint64 = 14695981039346656037

// chain folds id into h: FNV-1a over h's and id's bytes.
func chain(h uint64, id int64) uint64 {
	const prime = 1099511628211
	x := hashSeed
	for i := 0; i < 64; i += 8 {
		x = (x ^ (h >> i & 0xff)) * prime
	}
	for i := 0; i < 64; i += 8 {
		x = (x ^ (uint64(id) >> i & 0xff)) * prime
	}
	return x
}

// reference is a channel's final stored log, the ground truth for the
// identity of messages that reads return.
type reference struct {
	channel string
	// contig holds the messages at seqs 1..len(contig): contig[i].Seq == i+1.
	contig []Message
	// extra holds the messages past the first gap, by seq (first listed).
	extra map[uint64]Message
	// prefix[k] is the chained hash of the ids at 1..k, k ≤ len(contig).
	prefix []uint64
	// byKey finds a message by (from uid, client_msg_no): the first listed.
	byKey map[msgKey]Message
}

type msgKey struct{ from, cmn string }

func newReference(channel string, log []Message) *reference {
	ref := &reference{channel: channel, extra: map[uint64]Message{}, byKey: map[msgKey]Message{}}
	seen := map[uint64]bool{}
	for _, m := range sortedBySeq(log) {
		if seen[m.Seq] {
			continue
		}
		seen[m.Seq] = true
		if m.Seq == uint64(len(ref.contig))+1 && len(ref.extra) == 0 {
			ref.contig = append(ref.contig, m)
		} else {
			ref.extra[m.Seq] = m
		}
	}
	ref.prefix = make([]uint64, len(ref.contig)+1)
	ref.prefix[0] = hashSeed
	for i, m := range ref.contig {
		ref.prefix[i+1] = chain(ref.prefix[i], m.MessageID)
	}
	for _, m := range log { // in listed order, so "first listed" wins
		k := msgKey{m.FromUID, m.ClientMsgNo}
		if _, ok := ref.byKey[k]; !ok && m.ClientMsgNo != "" {
			ref.byKey[k] = m
		}
	}
	return ref
}

// at returns the stored message at seq.
func (r *reference) at(seq uint64) (Message, bool) {
	if seq >= 1 && seq <= uint64(len(r.contig)) {
		return r.contig[seq-1], true
	}
	m, ok := r.extra[seq]
	return m, ok
}

// input is a porcupine operation's input; output its output.
type input struct {
	op   OpID
	kind opKind
	ref  *reference

	// send: another acknowledged or stored send of this channel has the
	// same (from uid, client_msg_no), so this one may be a deduplicated
	// resend that stores nothing.
	dup bool

	req SyncRequest // sync
	// A sync's answer, sorted by seq, is summarized when the history is
	// resolved, since none of it depends on the state: first and count
	// describe it if it is a run of consecutive seqs; shapeOK says it is
	// and that each message is the stored one at its seq.
	first, count uint64
	shapeOK      bool
}

type output struct {
	msg  Message   // send: Seq and MessageID
	msgs []Message // sync, sorted by seq
	tail uint64    // max-seq
}

// step is the sequential specification of one channel.
func step(s state, in *input, out *output) (bool, state) {
	switch in.kind {
	case opSend:
		m := out.msg
		if m.Seq == s.tail+1 {
			return true, state{tail: m.Seq, hash: chain(s.hash, m.MessageID)}
		}
		if in.dup && m.Seq >= 1 && m.Seq <= s.tail {
			// A resend answered with the original: a read of seq m.Seq.
			stored, ok := in.ref.at(m.Seq)
			return ok && stored.MessageID == m.MessageID, s
		}
		return false, s
	case opMaxSeq:
		return out.tail == s.tail, s
	case opSync:
		first, count := SyncWindow(in.req, s.tail)
		if !in.shapeOK || in.count != count || (count > 0 && in.first != first) {
			return false, s
		}
		// The answer is the stored messages at the right seqs. The log the
		// model built must be the stored one as far as both reach, or the
		// answer came from a log that differs in what came before.
		if s.tail <= uint64(len(in.ref.contig)) && s.hash != in.ref.prefix[s.tail] {
			return false, s
		}
		return true, s
	}
	return false, s
}

// model is the porcupine model; partition groups operations by channel,
// in the order of the channels' first appearance in the history given (the
// checker gives them sorted by channel).
var model = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		index := map[*reference]int{}
		var parts [][]porcupine.Operation
		for _, o := range history {
			ref := o.Input.(*input).ref
			i, ok := index[ref]
			if !ok {
				i = len(parts)
				index[ref] = i
				parts = append(parts, nil)
			}
			parts[i] = append(parts[i], o)
		}
		return parts
	},
	Init: func() any { return state{hash: hashSeed} },
	Step: func(s, in, out any) (bool, any) {
		return step(s.(state), in.(*input), out.(*output))
	},
	Hash: func(s any) uint64 {
		st := s.(state)
		return st.hash ^ st.tail*0x9e3779b97f4a7c15
	},
	DescribeOperation: func(in, out any) string {
		return describeStep(in.(*input), out.(*output))
	},
	DescribeState: func(s any) string {
		st := s.(state)
		return fmt.Sprintf("tail %d (log hash %016x)", st.tail, st.hash)
	},
}

func describeStep(in *input, out *output) string {
	switch in.kind {
	case opSend:
		dup := ""
		if in.dup {
			dup = " (client_msg_no sent more than once)"
		}
		return fmt.Sprintf("send → seq %d id %d%s", out.msg.Seq, out.msg.MessageID, dup)
	case opMaxSeq:
		return fmt.Sprintf("max-seq → %d", out.tail)
	}
	return fmt.Sprintf("sync %s → %s", describeRequest(in.req), describeSeqs(out.msgs))
}

func describeRequest(req SyncRequest) string {
	mode := "down"
	if req.Mode == Up {
		mode = "up"
	}
	return fmt.Sprintf("%s start %d end %d limit %d", mode, req.Start, req.End, req.Limit)
}

// describeSeqs renders sorted messages' seqs compactly: "seqs 3..7",
// "seqs [1 2 4]", "nothing".
func describeSeqs(msgs []Message) string {
	if len(msgs) == 0 {
		return "nothing"
	}
	run := true
	for i := range msgs {
		if msgs[i].Seq != msgs[0].Seq+uint64(i) {
			run = false
		}
	}
	if run {
		if len(msgs) == 1 {
			return fmt.Sprintf("seq %d", msgs[0].Seq)
		}
		return fmt.Sprintf("seqs %d..%d", msgs[0].Seq, msgs[len(msgs)-1].Seq)
	}
	var b strings.Builder
	b.WriteString("seqs [")
	for i, m := range msgs {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprint(&b, m.Seq)
	}
	b.WriteString("]")
	return b.String()
}
