package node

import (
	"github.com/jindou-im/jindou/node/state"
	"github.com/jindou-im/jindou/runtime"
)

// The peer encoding of the presence messages (see peer.go). The sender
// node of an update or a whole presence is not written: the receiver takes
// it from the transport.

// writePresence writes m if it is a presence message and returns its
// kind, or 0.
func writePresence(w *state.Writer, m runtime.Msg) byte {
	switch m := m.(type) {
	case presenceUpdate:
		writePresenceSrc(w, m.Src)
		w.Uint(m.Seq)
		writePresenceChanges(w, m.Changes)
		return peerPresenceUpdate
	case presenceFull:
		writePresenceSrc(w, m.Src)
		w.Uint(m.Seq)
		w.Uint(uint64(m.Part))
		w.Uint(uint64(m.Parts))
		writePresenceChanges(w, m.Holds)
		return peerPresenceFull
	case presenceAsk:
		w.Uint(uint64(m.Reply.Node))
		w.Str(m.Reply.Loop)
		w.Uint(m.Reply.Inc)
		return peerPresenceAsk
	}
	return 0
}

// readPresence reads a presence message of kind, or returns nil for
// another kind.
func readPresence(r *state.Reader, kind byte) runtime.Msg {
	switch kind {
	case peerPresenceUpdate:
		return presenceUpdate{Src: readPresenceSrc(r), Seq: r.Uint(), Changes: readPresenceChanges(r)}
	case peerPresenceFull:
		m := presenceFull{Src: readPresenceSrc(r), Seq: r.Uint()}
		m.Part, m.Parts = readPart(r), readPart(r)
		if m.Part >= m.Parts {
			r.Fail("presence part")
		}
		m.Holds = readPresenceChanges(r)
		return m
	case peerPresenceAsk:
		return presenceAsk{Reply: addr{Node: runtime.NodeID(r.Uint()), Loop: r.Str(), Inc: r.Uint()}}
	}
	return nil
}

func writePresenceSrc(w *state.Writer, s presenceSource) {
	w.Uint(uint64(s.Gateway))
	w.Uint(s.Inc)
}

func readPresenceSrc(r *state.Reader) presenceSource {
	gw := r.Uint()
	if gw > 1<<16 {
		r.Fail("presence gateway")
		gw = 0
	}
	return presenceSource{Gateway: int(gw), Inc: r.Uint()}
}

// readPart reads a part number or count, at most maxPresenceParts.
func readPart(r *state.Reader) int {
	v := r.Uint()
	if v > maxPresenceParts {
		r.Fail("presence parts")
		return 0
	}
	return int(v)
}

func writePresenceChanges(w *state.Writer, cs []presenceChange) {
	w.Uint(uint64(len(cs)))
	for _, c := range cs {
		w.Str(c.UID)
		w.Byte(byte(c.State))
	}
}

func readPresenceChanges(r *state.Reader) []presenceChange {
	n := r.Count()
	var out []presenceChange
	for range n {
		c := presenceChange{UID: r.Str(), State: presenceState(r.Byte())}
		if c.State >= presenceStates {
			r.Fail("presence state")
			return nil
		}
		out = append(out, c)
	}
	return out
}
