package node

import (
	"strings"

	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/node/state"
)

// The facts of other loops' slots. A person send is checked against the
// recipient's own channel (its info, black- and whitelist), which lives in
// the slot of that channel: in a cluster of one, often a slot of another
// slot loop of this node, which this loop may not read through that slot's
// Machine (one loop owns it). Reading them from the store cost two Pebble
// point reads per send; foreignFacts keeps what was read, and the loop that
// owns the slot tells every other slot loop when one of its own channels
// changes (factsChanged, posted after the change is committed to the
// store), so the copy is dropped before any request that follows the
// change reaches the loop: a request caused by the change (an API call
// answered after it, then a SEND) is posted after the notice, and a loop's
// queue is FIFO.
//
// Entries the loop applies that were in the log at its start (at or below
// startLast) post nothing, because which of them a start-up replay applied
// depends on what a crash kept and must not reach the trace; instead, when
// a slot first catches up in an incarnation (everything before it applied),
// its loop tells the others to drop everything. Before that moment a send
// may read facts that lag, as it did from the store.
//
// In a larger cluster the facts of other slots are read from their
// leaders (slot_serve.go), and a cluster's replicas can change under a
// loop by snapshots and hand-offs: the copy is used only while the node is
// a cluster of one, and dropped whole when it is not.

// factsChanged tells a slot loop that the own person channel Ch (every
// channel, if All) changed in a slot of another loop of this node.
type factsChanged struct {
	Ch  state.ChannelKey
	All bool
}

func (factsChanged) Kind() string { return "facts-changed" }

// maxForeignFacts bounds a loop's copy (records and member answers
// together); past it the copy starts over.
const maxForeignFacts = 1 << 14

// foreignFacts is a slot loop's copy of facts read from slots it does not
// own, by own channel.
type foreignFacts struct {
	chans map[state.ChannelKey]*channelFacts
	n     int
}

// channelFacts is what was read of one own channel: its record (if read)
// and membership answers.
type channelFacts struct {
	rec     state.ChannelRecord
	hasRec  bool
	members map[memberQuery]bool
}

type memberQuery struct {
	table byte
	uid   string
}

func (c *foreignFacts) entry(ch state.ChannelKey) *channelFacts {
	if e := c.chans[ch]; e != nil {
		return e
	}
	if c.chans == nil || c.n >= maxForeignFacts {
		c.chans, c.n = map[state.ChannelKey]*channelFacts{}, 0
	}
	e := &channelFacts{}
	c.chans[ch] = e
	return e
}

func (c *foreignFacts) channel(sl *slotLoop, slotID int, ch state.ChannelKey) state.ChannelRecord {
	if sl.n.clustered() {
		c.chans, c.n = nil, 0
		return state.ReadChannel(sl.n.db, slotID, ch)
	}
	e := c.entry(ch)
	if !e.hasRec {
		e.rec, e.hasRec = state.ReadChannel(sl.n.db, slotID, ch), true
		c.n++
	}
	return e.rec
}

func (c *foreignFacts) isMember(sl *slotLoop, slotID int, table byte, ch state.ChannelKey, uid string) bool {
	if sl.n.clustered() {
		c.chans, c.n = nil, 0
		return state.ReadIsMember(sl.n.db, slotID, table, ch, uid)
	}
	e := c.entry(ch)
	q := memberQuery{table, uid}
	if ok, known := e.members[q]; known {
		return ok
	}
	ok := state.ReadIsMember(sl.n.db, slotID, table, ch, uid)
	if e.members == nil {
		e.members = map[memberQuery]bool{}
	}
	e.members[q] = ok
	c.n++
	return ok
}

func (sl *slotLoop) onFactsChanged(m factsChanged) {
	c := &sl.foreign
	sl.stats.FactsNotices++
	if m.All {
		c.chans, c.n = nil, 0
		return
	}
	if e := c.chans[m.Ch]; e != nil {
		c.n -= len(e.members)
		if e.hasRec {
			c.n--
		}
		delete(c.chans, m.Ch)
	}
}

// ownChannel reports whether ch is a user's own person channel (whose id
// is the uid alone), which holds the facts of person sends to that user.
func ownChannel(ch state.ChannelKey) bool {
	return ch.Type == proto.ChannelPerson && !strings.Contains(ch.ID, "@")
}

// tellFactsChanged posts the changes of own channels that apply committed
// to every other slot loop of this node.
func (sl *slotLoop) tellFactsChanged(chans []state.ChannelKey) {
	for _, o := range sl.n.slotLoops {
		if o == sl {
			continue
		}
		for _, ch := range chans {
			o.loop.Post(factsChanged{Ch: ch})
		}
	}
}

// tellCaughtUp posts, once a slot first catches up in this incarnation,
// that every copy of its facts is to be dropped (see above).
func (sl *slotLoop) tellCaughtUp() {
	for _, o := range sl.n.slotLoops {
		if o != sl {
			o.loop.Post(factsChanged{All: true})
		}
	}
}
