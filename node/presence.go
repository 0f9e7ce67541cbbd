package node

import (
	"cmp"
	"slices"
	"time"

	"github.com/jindou-im/jindou/runtime"
)

// Presence in a cluster: which node holds connections of which uid. It is
// soft state, never in raft. Every gateway loop tells every slot loop of
// the cluster (its own node's included) when a uid gains its first ready
// connection on the gateway, loses its last one, or gains or loses its
// master device there (presenceUpdate). Each slot loop keeps a table of
// them for every uid (presenceTable), so that the leader of any slot,
// having applied a message, finds the nodes of its online recipients
// without asking anyone, and sends each of those nodes one delivery
// (presence_delivery.go).
//
// A gateway numbers its updates (Seq) and repeats its current number every
// presenceBeatInterval (an update without changes, the beat). A slot loop
// that sees a number it missed — a lost update, a link that came back, a
// gateway or a slot loop that restarted — asks that gateway for its whole
// presence (presenceAsk) and replaces what it held of it with the answer
// (presenceFull, in parts of at most presenceChunk uids), replaying the
// updates that overtook the answer. A gateway of a new incarnation of a
// node retires every gateway of that node's older incarnation: their
// entries are dropped, and their late messages ignored. A gateway not
// heard for presenceExpiry (a node down or cut off) is dropped too.
//
// Where presence is stale a delivery may go to a node that no longer holds
// the user (harmless) or miss one that just gained it: the client syncs.
// Once the links are healthy, presence is right within PresenceBound.

// Presence's timing and limits.
const (
	// presenceBeatInterval is how often a gateway repeats its update
	// number to every slot loop.
	presenceBeatInterval = time.Second
	// presenceAskRetry is how long a slot loop waits for a whole presence
	// it asked for before it may ask again.
	presenceAskRetry = time.Second
	// presenceExpiry drops a gateway not heard from for that long.
	presenceExpiry = 10 * time.Second
	// PresenceBound is how long after a uid came online on a node (or the
	// links came back) every slot loop of the cluster knows it, with
	// healthy links: a beat, an ask and its answer, and slack for latency.
	PresenceBound = 3 * time.Second
	// maxPresenceUsers bounds the uids a slot loop's table holds; past
	// it the loop delivers to every member, as if it had no table.
	maxPresenceUsers = 1 << 20
	// presenceChunk is the most uids one presenceFull part carries.
	presenceChunk = 1024
	// maxPresenceParts bounds the parts of a whole presence.
	maxPresenceParts = maxPresenceUsers/presenceChunk + 1
	// maxPresenceLog bounds the changes a slot loop keeps while it waits
	// for a whole presence, to replay over it; past it the refresh is
	// given up and asked again.
	maxPresenceLog = 4096
	// maxRetiredIncs bounds the older incarnations remembered per node.
	maxRetiredIncs = 4
)

// presenceState is a uid's presence on one gateway.
type presenceState uint8

const (
	presenceOff    presenceState = iota // no ready connection
	presenceOn                          // ready connections, none a master device
	presenceMaster                      // a master device among them
	presenceStates                      // the number of states (decoding bound)
)

// presenceChange is a uid's new presence on a gateway.
type presenceChange struct {
	UID   string
	State presenceState
}

// presenceSource is a gateway loop of an incarnation of a node. Node is
// the sender: a peer's is taken from the transport, not from the bytes.
type presenceSource struct {
	Node    runtime.NodeID
	Gateway int // the gateway loop's index
	Inc     uint64
}

// presenceUpdate is a gateway's numbered changes to every slot loop; one
// without changes is its beat (Seq is then its latest number).
type presenceUpdate struct {
	Src     presenceSource
	Seq     uint64
	Changes []presenceChange
}

// presenceFull is part Part of Parts of a gateway's whole presence as of
// its update Seq: every uid online on it.
type presenceFull struct {
	Src         presenceSource
	Seq         uint64
	Part, Parts int
	Holds       []presenceChange
}

// presenceAsk asks a gateway for its whole presence; the answer goes to
// Reply, a slot loop.
type presenceAsk struct{ Reply addr }

func (presenceUpdate) Kind() string { return "presence-update" }
func (presenceFull) Kind() string   { return "presence-full" }
func (presenceAsk) Kind() string    { return "presence-ask" }

// presenceHold: a gateway holds ready connections of a uid.
type presenceHold struct {
	node   runtime.NodeID
	gw     int
	master bool
}

func (h presenceHold) key() sourceKey { return sourceKey{h.node, h.gw} }

type sourceKey struct {
	node runtime.NodeID
	gw   int
}

func (a sourceKey) compare(b sourceKey) int {
	return cmp.Or(cmp.Compare(a.node, b.node), cmp.Compare(a.gw, b.gw))
}

// sourceState is what a slot loop knows of one gateway.
type sourceState struct {
	key sourceKey
	inc uint64
	// seq is the newest update number seen; gap: some number up to it
	// was missed, so the table may be wrong about this gateway.
	seq     uint64
	gap     bool
	heardAt time.Duration
	askedAt time.Duration
	asked   bool
	// stage collects the whole presence asked for, nil when none is.
	stage *presenceStage
}

// presenceStage is a whole presence being received.
type presenceStage struct {
	seq   uint64 // the answer's update number (0: no part yet)
	parts []bool
	got   int
	holds map[string]bool // uid → master
	// log are the updates received since the ask, replayed over the
	// answer; logged counts their changes.
	log    []presenceUpdate
	logged int
}

// presenceStats are a slot loop's presence counters.
type presenceStats struct {
	// Updates counts updates applied; Refreshes whole presences taken in;
	// Asks whole presences asked for; Retired gateways of older
	// incarnations dropped, Expired gateways not heard from; Dropped
	// presence messages ignored (from a retired incarnation, or
	// malformed); Overflow uids not recorded past maxPresenceUsers.
	Updates, Refreshes, Asks, Retired, Expired, Dropped, Overflow int64
	// Skipped counts deliveries not sent to a member that holds none of
	// the recipients; Sent deliveries sent to other nodes.
	Skipped, Sent int64
}

// presenceTable is a slot loop's view of the cluster's presence.
type presenceTable struct {
	users map[string][]presenceHold // sorted by source
	// sources are the gateways heard from, sorted by key (a handful: the
	// members times their gateway loops).
	sources []*sourceState
	retired map[runtime.NodeID][]uint64
	stats   presenceStats
}

func newPresenceTable() presenceTable {
	return presenceTable{users: map[string][]presenceHold{}, retired: map[runtime.NodeID][]uint64{}}
}

// full: the table stopped recording new uids (maxPresenceUsers).
func (t *presenceTable) full() bool { return len(t.users) >= maxPresenceUsers }

// source is the state of src's gateway, made if new, after retiring the
// node's older incarnations; nil if src is itself retired.
func (t *presenceTable) source(src presenceSource, now time.Duration) *sourceState {
	if slices.Contains(t.retired[src.Node], src.Inc) {
		return nil
	}
	for _, s := range slices.Clone(t.sources) {
		if s.key.node == src.Node && s.inc != src.Inc {
			t.retire(src.Node, s.inc)
		}
	}
	k := sourceKey{src.Node, src.Gateway}
	i, found := slices.BinarySearchFunc(t.sources, k, func(s *sourceState, k sourceKey) int { return s.key.compare(k) })
	if !found {
		t.sources = slices.Insert(t.sources, i, &sourceState{key: k, inc: src.Inc})
	}
	s := t.sources[i]
	s.heardAt = now
	return s
}

// retire drops every gateway of node's incarnation inc.
func (t *presenceTable) retire(node runtime.NodeID, inc uint64) {
	t.sources = slices.DeleteFunc(t.sources, func(s *sourceState) bool {
		if s.key.node != node || s.inc != inc {
			return false
		}
		t.dropHolds(s.key)
		t.stats.Retired++
		return true
	})
	r := append(t.retired[node], inc)
	if len(r) > maxRetiredIncs {
		r = r[len(r)-maxRetiredIncs:]
	}
	t.retired[node] = r
}

// expire drops the gateways not heard from for presenceExpiry.
func (t *presenceTable) expire(now time.Duration) {
	t.sources = slices.DeleteFunc(t.sources, func(s *sourceState) bool {
		if now-s.heardAt < presenceExpiry {
			return false
		}
		t.dropHolds(s.key)
		t.stats.Expired++
		return true
	})
}

// onUpdate takes an update or a beat; it reports whether to ask the
// gateway for its whole presence.
func (t *presenceTable) onUpdate(m presenceUpdate, now time.Duration) (ask bool) {
	s := t.source(m.Src, now)
	if s == nil {
		t.stats.Dropped++
		return false
	}
	if len(m.Changes) == 0 {
		t.expire(now)
		return (m.Seq > s.seq || s.gap) && t.mayAsk(s, now)
	}
	if s.stage != nil {
		t.logUpdate(s, m)
	}
	if m.Seq <= s.seq {
		return false // a repeat, or overtaken: the table has newer
	}
	if m.Seq != s.seq+1 {
		s.gap = true
	}
	s.seq = m.Seq
	t.stats.Updates++
	for _, c := range m.Changes {
		t.hold(s, c)
	}
	return s.gap && t.mayAsk(s, now)
}

func (t *presenceTable) logUpdate(s *sourceState, m presenceUpdate) {
	st := s.stage
	if st.logged+len(m.Changes) > maxPresenceLog {
		s.stage = nil // given up: the next beat asks again
		return
	}
	st.log = append(st.log, m)
	st.logged += len(m.Changes)
}

// mayAsk starts a refresh of s unless one was asked for lately.
func (t *presenceTable) mayAsk(s *sourceState, now time.Duration) bool {
	if s.asked && now-s.askedAt < presenceAskRetry {
		return false
	}
	s.asked, s.askedAt = true, now
	s.stage = &presenceStage{}
	t.stats.Asks++
	return true
}

// onFull takes a part of a whole presence asked for.
func (t *presenceTable) onFull(m presenceFull, now time.Duration) {
	s := t.source(m.Src, now)
	if s == nil || s.stage == nil || m.Seq < s.stage.seq {
		t.stats.Dropped++ // retired, not asked for, or an older answer
		return
	}
	st := s.stage
	if m.Seq > st.seq || len(st.parts) != m.Parts {
		st.seq, st.parts, st.got, st.holds = m.Seq, make([]bool, m.Parts), 0, map[string]bool{}
	}
	if st.parts[m.Part] {
		return // a repeated part
	}
	st.parts[m.Part] = true
	st.got++
	for _, h := range m.Holds {
		if len(st.holds) >= maxPresenceUsers {
			t.stats.Overflow++
			break
		}
		st.holds[h.UID] = h.State == presenceMaster
	}
	if st.got == len(st.parts) {
		t.complete(s)
	}
}

// complete replaces what the table held of s with its whole presence and
// the updates that came after it.
func (t *presenceTable) complete(s *sourceState) {
	st := s.stage
	s.stage, s.asked = nil, false
	slices.SortStableFunc(st.log, func(a, b presenceUpdate) int { return cmp.Compare(a.Seq, b.Seq) })
	next := st.seq + 1
	for _, u := range st.log {
		if u.Seq < next {
			continue // in the answer already, or a repeat
		}
		if u.Seq > next {
			break
		}
		next++
		for _, c := range u.Changes {
			if c.State == presenceOff {
				delete(st.holds, c.UID)
			} else {
				st.holds[c.UID] = c.State == presenceMaster
			}
		}
	}
	// Every number up to the newest seen is accounted for, or a later
	// beat asks again.
	s.gap = next <= s.seq
	s.seq = max(s.seq, next-1)
	t.dropHolds(s.key)
	for _, uid := range sortedKeys(st.holds) {
		state := presenceOn
		if st.holds[uid] {
			state = presenceMaster
		}
		t.hold(s, presenceChange{UID: uid, State: state})
	}
	t.stats.Refreshes++
}

// hold records c for s's gateway.
func (t *presenceTable) hold(s *sourceState, c presenceChange) {
	list, ok := t.users[c.UID]
	i, found := slices.BinarySearchFunc(list, s.key, func(h presenceHold, k sourceKey) int { return h.key().compare(k) })
	switch {
	case c.State == presenceOff:
		if !found {
			return
		}
		if list = slices.Delete(list, i, i+1); len(list) == 0 {
			delete(t.users, c.UID)
			return
		}
	case found:
		list[i].master = c.State == presenceMaster
	default:
		if !ok && t.full() {
			t.stats.Overflow++
			s.gap = true // asked again when there is room
			return
		}
		list = slices.Insert(list, i, presenceHold{node: s.key.node, gw: s.key.gw, master: c.State == presenceMaster})
	}
	t.users[c.UID] = list
}

// dropHolds forgets every uid held by gateway k.
func (t *presenceTable) dropHolds(k sourceKey) {
	//lint:maporder order-free: each uid loses k's entry, whatever the order
	for uid, list := range t.users {
		list = slices.DeleteFunc(list, func(h presenceHold) bool { return h.key() == k })
		if len(list) == 0 {
			delete(t.users, uid)
		} else {
			t.users[uid] = list
		}
	}
}

// masterOnline: some node holds a master device of uid.
func (t *presenceTable) masterOnline(uid string) bool {
	return slices.ContainsFunc(t.users[uid], func(h presenceHold) bool { return h.master })
}

// Handling on the slot loop.

// onPresence takes a presence message (from a gateway of this node or, via
// onPresencePeer, of another).
func (sl *slotLoop) onPresence(m runtime.Msg) {
	now := sl.n.env.Clock().Now()
	switch m := m.(type) {
	case presenceUpdate:
		if sl.presence.onUpdate(m, now) {
			ask := presenceAsk{Reply: sl.n.self(sl.name)}
			sl.n.post(addr{Node: m.Src.Node, Loop: gatewayName(m.Src.Gateway)}, ask)
		}
	case presenceFull:
		sl.presence.onFull(m, now)
	}
}

// onPresencePeer takes m from peer node from if it is a presence message,
// and reports whether it was one. The sender is the transport's, and a
// message naming a gateway loop or part that cannot exist is dropped.
func (sl *slotLoop) onPresencePeer(m runtime.Msg, from runtime.NodeID) bool {
	switch p := m.(type) {
	case presenceUpdate:
		p.Src.Node = from
		m = p
	case presenceFull:
		p.Src.Node = from
		if p.Parts < 1 || p.Parts > maxPresenceParts || p.Part < 0 || p.Part >= p.Parts {
			sl.presence.stats.Dropped++
			return true
		}
		m = p
	default:
		return false
	}
	if src := presenceSrcOf(m); !sl.n.isMember(from) || src.Gateway < 0 || src.Gateway >= sl.n.cfg.GatewayLoops {
		sl.presence.stats.Dropped++
		return true
	}
	sl.onPresence(m)
	return true
}

func presenceSrcOf(m runtime.Msg) presenceSource {
	if u, ok := m.(presenceUpdate); ok {
		return u.Src
	}
	return m.(presenceFull).Src
}
