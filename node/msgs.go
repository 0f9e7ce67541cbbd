package node

import (
	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/node/state"
	"github.com/jindou-im/jindou/runtime"
)

// The vocabulary between loops: every message one loop posts to another,
// in one place. Requests carry a reply address; answers carry it back, so
// that the requester matches them to the continuation it keeps, keyed by
// request id, on its own loop. No message carries a function (the lint
// test checks every type below), so a request to a loop of another node is
// a change of address, not of code. Within a process messages stay values;
// between nodes they will be serialized.
//
// The one exception is apiCall, the entry from outside the node (HTTP
// handlers, test drivers): it carries the caller's completion, which the API
// loop calls on itself and which never travels on.

// addr is a loop of a node. Inc, in a reply address, is the requester's
// incarnation (Node.inc): request ids and connection ids start again at
// each start, so an answer from another node to an earlier incarnation
// must not be taken for the answer to a request of this one. It does not
// take part in routing.
type addr struct {
	Node runtime.NodeID
	Loop string
	Inc  uint64
}

// replyTo is where an answer goes, and what the requester matches it by.
type replyTo struct {
	addr
	// Conn and ClientSeq name a client's SEND (a gateway requester); Conn
	// alone, a connection whose token is being checked. Connection ids
	// start at 1: 0 names none.
	Conn      uint64
	ClientSeq uint32
	// Req is the requester's request id (the API loop's requests).
	Req uint64
}

// client is the connection a request came from, if any.
func (r replyTo) client() connAddr {
	if r.Conn == 0 {
		return connAddr{}
	}
	return connAddr{Node: r.Node, Gateway: r.Loop, Conn: r.Conn}
}

// connAddr names a client connection in the cluster; the zero value names
// none.
type connAddr struct {
	Node    runtime.NodeID
	Gateway string
	Conn    uint64
}

// Requests to a slot loop.

// slotSend asks the slot to check a send and store it (or, no_persist,
// deliver it at once). Answer: sendDone.
type slotSend struct {
	Slot  int
	Req   sendRequest
	Reply replyTo
	// Hops counts how often the request was passed on towards its slot's
	// leader (at most maxForwardHops).
	Hops uint8
	// Confirmed: a refusal of this send was confirmed (refusal.go) and is
	// answered as decided. Local to the deciding loop: not in the peer
	// encoding.
	Confirmed bool
	// Retry: the gateway sent this SEND before and had no answer; a
	// refusal of it is decided in the log (state/refuse.go).
	Retry bool
}

// sendRequest is a message on its way to its channel's slot.
type sendRequest struct {
	Ch   state.ChannelKey
	Cmd  state.SendCmd
	AtMs int64
	// System bypasses permission checks (API sends by system accounts).
	System bool
}

// slotPropose asks the slot to replicate and apply a command. The
// requester hands Cmd over and does not touch it again. Answer:
// proposeDone.
type slotPropose struct {
	Slot  int
	Cmd   *state.Command
	Reply replyTo
	Hops  uint8
}

// slotRead asks for a read of the applied state of one slot, or of every
// slot of the loop (Slot == allSlots), once they have caught up — or at
// once when Now is set (stats must answer while a node recovers). Answer:
// readDone.
type slotRead struct {
	Slot  int
	Query slotQuery
	Now   bool
	Reply replyTo
	Hops  uint8
}

// allSlots in slotRead.Slot: every slot of the loop.
const allSlots = -1

// systemChanged tells a slot loop the system uids, as slot 0's leader had
// applied them at Index: a loop keeps the set of the highest index it was
// told (slot 0's applied index never goes back, across leaders too).
type systemChanged struct {
	UIDs  []string
	Index uint64
}

// needSnapshot asks the leader of group Slot to catch the sender's empty
// replica up from a snapshot (membership.go).
type needSnapshot struct{ Slot int }

// replicaRemoved tells a node's slot loop that the leader (in Term) of
// group Slot no longer counts it in the group: it drops its replica
// (membership.go).
type replicaRemoved struct {
	Slot int
	Term uint64
}

// leadersMsg tells a slot loop of another node which slots the sender's
// loop leads, each with its term, so that a node that does not replicate a
// slot knows where to pass its requests on.
type leadersMsg struct {
	From  runtime.NodeID
	Slots []int
	Terms []uint64
}

// wake makes a loop look at its slots (the Readies of campaigns made at
// start).
type wake struct{}

// slotQuery is what a slotRead reads; each query's result type is named on
// it.
type slotQuery interface{ isSlotQuery() }

type (
	// queryToken checks a CONNECT's token. Result: authResult.
	queryToken struct {
		UID   string
		Flag  uint8
		Token string
	}
	// querySystemUIDs lists the system uids (slot 0). Result: uidsResult.
	querySystemUIDs struct{}
	// queryList lists a channel's blacklist or whitelist. Result: uidsResult.
	queryList struct {
		Ch   state.ChannelKey
		List byte
	}
	// querySync reads a range of a channel's log. Result: syncResult.
	querySync struct {
		Ch          state.ChannelKey
		Start, End  uint64
		Limit, Mode int
	}
	// queryMaxSeq reads a channel's last seq. Result: seqResult.
	queryMaxSeq struct{ Ch state.ChannelKey }
	// queryMessagesAt reads given messages of a channel. Result:
	// messagesResult.
	queryMessagesAt struct {
		Ch   state.ChannelKey
		Seqs []uint64
	}
	// queryConversations lists a user's conversations in every slot of the
	// loop. Result: conversationsResult.
	queryConversations struct{ Q state.ConversationQuery }
	// querySlotStats reads the loop's counters. Result: slotLoopStats.
	querySlotStats struct{}
	// queryPersonFacts reads a person send's facts that live with the
	// recipient's own channel (in that channel's slot). Result:
	// factsResult.
	queryPersonFacts struct {
		Ch   state.ChannelKey // the person channel, as stored
		From string
	}
)

// Requests to a gateway loop.

// deliverMsg pushes a new message to the loop's online recipients.
type deliverMsg struct {
	Msg        *state.Message
	Recipients []string
	Except     connAddr
}

// kickMsg disconnects a uid's connections of a device flag (all flags if
// Flag < 0), except one. A login's kick (Login) closes only the
// connections of its own device id and, if Master, kicks the other
// devices' (see kickAction).
type kickMsg struct {
	UID    string
	Flag   int
	Except connAddr
	Reason string
	Login  bool
	Device string
	Master bool
}

// gatewayRead asks a gateway loop about its connections. Answer: readDone.
type gatewayRead struct {
	Query gatewayQuery
	Reply replyTo
}

// gatewayQuery is what a gatewayRead reads.
type gatewayQuery interface{ isGatewayQuery() }

type (
	// queryOnline lists the online connections of uids. Result:
	// onlineResult.
	queryOnline struct{ UIDs []string }
	// queryConnz lists connections (of one uid if set). Result:
	// connzResult.
	queryConnz struct{ UID string }
	// queryGatewayStats reads the loop's counters. Result: gatewayLoopStats.
	queryGatewayStats struct{}
)

// Answers.

// sendDone answers slotSend.
type sendDone struct {
	Reply replyTo
	Res   sendResult
}

// sendResult is the outcome of a send.
type sendResult struct {
	Reason    proto.ReasonCode
	MessageID int64
	Seq       uint64
	Duplicate bool
	// Recorded: a refusal decided in the log (state/refuse.go), which
	// every other attempt of the same SEND will answer too.
	Recorded bool
	Err      error
}

// proposeDone answers slotPropose: nil once the command is applied.
type proposeDone struct {
	Reply replyTo
	Err   error
}

// readDone answers slotRead and gatewayRead.
type readDone struct {
	Reply  replyTo
	Result readResult
	// Err, if set, is why there is no result (ErrOverloaded).
	Err error
}

// answer is any of the answers above: it names its requester.
type answer interface {
	runtime.Msg
	to() replyTo
}

func (m sendDone) to() replyTo    { return m.Reply }
func (m proposeDone) to() replyTo { return m.Reply }
func (m readDone) to() replyTo    { return m.Reply }

// readResult is a query's result.
type readResult interface{ isReadResult() }

type (
	authResult struct {
		OK    bool
		Level proto.DeviceLevel
	}
	uidsResult []string
	syncResult struct {
		Messages []*state.Message
		More     bool
	}
	seqResult           uint64
	messagesResult      []*state.Message
	conversationsResult []state.Conversation
	onlineResult        []OnlineConn
	connzResult         []ConnInfo
	factsResult         state.PersonFacts
)

// The API loop's entry from outside the node.

// apiCall runs a Request; done is the outside caller's completion (see the
// vocabulary's one exception above).
type apiCall struct {
	req  Request
	done func(any, error)
}

// Timer tags, each handled by the loop that armed it.
type (
	tickTag     struct{}
	announceTag struct{}              // a slot loop's periodic leadersMsg and system uids
	persistTag  struct{ slots []int } // completes the group commit of slots' Readies
	retryTag    struct{ slots []int } // retries it after a disk error
	compactTag  struct {              // completes a log compaction of slot up to index
		slot  int
		index uint64
	}
	deadlineTag    struct{ conn uint64 } // a connection's connect or idle deadline
	resendTag      struct{ conn uint64 } // a connection's unacknowledged RECVs
	sendTimeoutTag struct{ conn uint64 } // a connection's SENDs awaiting answers
	authRetryTag   struct{ conn uint64 } // a connection's token or ban read to ask again
	requestTimeout struct{ req uint64 }  // an API request awaiting answers
	requestRetry   struct{ req uint64 }  // an API request to post again
)

func (slotSend) Kind() string       { return "slot-send" }
func (slotPropose) Kind() string    { return "slot-propose" }
func (slotRead) Kind() string       { return "slot-read" }
func (systemChanged) Kind() string  { return "system-changed" }
func (leadersMsg) Kind() string     { return "leaders" }
func (replicaRemoved) Kind() string { return "replica_removed" }
func (needSnapshot) Kind() string   { return "need_snapshot" }
func (joinRetry) Kind() string      { return "join_retry" }
func (wake) Kind() string           { return "wake" }
func (deliverMsg) Kind() string     { return "deliver" }
func (kickMsg) Kind() string        { return "kick" }
func (gatewayRead) Kind() string    { return "gateway-read" }
func (sendDone) Kind() string       { return "send-done" }
func (proposeDone) Kind() string    { return "propose-done" }
func (readDone) Kind() string       { return "read-done" }
func (apiCall) Kind() string        { return "api-call" }

func (m deliverMsg) Digest() uint64 { return uint64(m.Msg.MessageID) ^ m.Msg.Seq }

func (queryToken) isSlotQuery()         {}
func (querySystemUIDs) isSlotQuery()    {}
func (queryList) isSlotQuery()          {}
func (querySync) isSlotQuery()          {}
func (queryMaxSeq) isSlotQuery()        {}
func (queryMessagesAt) isSlotQuery()    {}
func (queryConversations) isSlotQuery() {}
func (querySlotStats) isSlotQuery()     {}
func (queryPersonFacts) isSlotQuery()   {}

func (queryOnline) isGatewayQuery()       {}
func (queryConnz) isGatewayQuery()        {}
func (queryGatewayStats) isGatewayQuery() {}

func (authResult) isReadResult()          {}
func (uidsResult) isReadResult()          {}
func (syncResult) isReadResult()          {}
func (seqResult) isReadResult()           {}
func (messagesResult) isReadResult()      {}
func (conversationsResult) isReadResult() {}
func (onlineResult) isReadResult()        {}
func (connzResult) isReadResult()         {}
func (factsResult) isReadResult()         {}
func (slotLoopStats) isReadResult()       {}
func (gatewayLoopStats) isReadResult()    {}
