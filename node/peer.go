package node

import (
	"errors"
	"fmt"

	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/node/state"
	"github.com/jindou-im/jindou/runtime"
)

// The peer codec: how the messages of msgs.go cross from a loop of one node
// to a loop of another. Every peer message is
//
//	peerFormat | kind | fields
//
// with the fields in the record encoding of node/state (varints, length-
// prefixed strings; messages and commands in exactly the bytes they are
// stored in). A raft message is peerFormat | peerRaft | slot (u16) | the
// raft message's protobuf. Peers are other processes: what they send is
// input, and a message that does not decode, or names a kind this version
// does not know, is dropped and counted (Stats), never a panic. A new kind
// or field comes with a new format byte, so that mixed versions refuse
// each other's messages instead of misreading them.
//
// Only what crosses nodes has an encoding: requests to slot loops, their
// answers, deliveries, kicks and gateway reads. Counters and stats stay on
// their node (the API reads them with Now reads of its own loops).

// peerFormat is the first byte of every peer message this version writes.
const peerFormat = 3

// Peer message kinds.
const (
	peerRaft byte = 1 + iota
	peerSlotSend
	peerSlotPropose
	peerSlotRead
	peerSendDone
	peerProposeDone
	peerReadDone
	peerDeliver
	peerKick
	peerGatewayRead
	peerSystem
	peerLeaders
	peerPresenceUpdate
	peerPresenceFull
	peerPresenceAsk
)

// Peer message kinds numbered apart from the list above.
const (
	peerReplicaRemoved byte = 40
	peerSnapChunk      byte = 41 // snapshot_stream.go: bytes, not fields
	peerNeedSnapshot   byte = 42
)

// errPeerMsg is a peer message that does not decode.
var errPeerMsg = errors.New("node: malformed peer message")

// encodePeer is m's peer encoding. A message without one is a bug of the
// caller (a local-only message addressed to another node) and panics.
func encodePeer(m runtime.Msg) []byte {
	w := state.NewWriter([]byte{peerFormat, 0})
	kind := writePeer(w, m)
	b := w.Bytes()
	b[1] = kind
	return b
}

func writePeer(w *state.Writer, m runtime.Msg) byte {
	switch m := m.(type) {
	case slotSend:
		w.Int(int64(m.Slot))
		writeReply(w, m.Reply)
		w.Byte(m.Hops)
		w.Channel(m.Req.Ch)
		w.SendCmd(&m.Req.Cmd)
		w.Int(m.Req.AtMs)
		w.Bool(m.Req.System)
		w.Bool(m.Retry)
		return peerSlotSend
	case slotPropose:
		w.Int(int64(m.Slot))
		writeReply(w, m.Reply)
		w.Byte(m.Hops)
		w.Command(m.Cmd)
		return peerSlotPropose
	case slotRead:
		w.Int(int64(m.Slot))
		writeReply(w, m.Reply)
		w.Byte(m.Hops)
		writeQuery(w, m.Query)
		return peerSlotRead
	case sendDone:
		writeReply(w, m.Reply)
		w.Uint(uint64(m.Res.Reason))
		w.Int(m.Res.MessageID)
		w.Uint(m.Res.Seq)
		w.Bool(m.Res.Duplicate)
		w.Bool(m.Res.Recorded)
		writeErr(w, m.Res.Err)
		return peerSendDone
	case proposeDone:
		writeReply(w, m.Reply)
		writeErr(w, m.Err)
		return peerProposeDone
	case readDone:
		writeReply(w, m.Reply)
		writeErr(w, m.Err)
		if m.Err == nil {
			writeResult(w, m.Result)
		}
		return peerReadDone
	case deliverMsg:
		w.Message(m.Msg)
		w.Strs(m.Recipients)
		writeConn(w, m.Except)
		return peerDeliver
	case kickMsg:
		w.Str(m.UID)
		w.Int(int64(m.Flag))
		writeConn(w, m.Except)
		w.Str(m.Reason)
		w.Bool(m.Login)
		w.Str(m.Device)
		w.Bool(m.Master)
		return peerKick
	case gatewayRead:
		writeReply(w, m.Reply)
		q, ok := m.Query.(queryOnline)
		if !ok {
			panic(fmt.Sprintf("node: gateway query %T has no peer encoding", m.Query))
		}
		w.Strs(q.UIDs)
		return peerGatewayRead
	case systemChanged:
		w.Strs(m.UIDs)
		w.Uint(m.Index)
		return peerSystem
	case leadersMsg:
		w.Uint(uint64(m.From))
		w.Uint(uint64(len(m.Slots)))
		for i, id := range m.Slots {
			w.Int(int64(id))
			w.Uint(m.Terms[i])
		}
		return peerLeaders
	case replicaRemoved:
		w.Int(int64(m.Slot))
		w.Uint(m.Term)
		return peerReplicaRemoved
	case needSnapshot:
		w.Int(int64(m.Slot))
		return peerNeedSnapshot
	}
	if kind := writePresence(w, m); kind != 0 {
		return kind
	}
	panic(fmt.Sprintf("node: %T has no peer encoding", m))
}

// decodePeer decodes a peer message other than a raft message.
func decodePeer(b []byte) (runtime.Msg, error) {
	if len(b) < 2 || b[0] != peerFormat {
		return nil, fmt.Errorf("%w: format %v", errPeerMsg, b[:min(len(b), 1)])
	}
	r := state.NewReader(b[2:])
	m := readPeer(r, b[1])
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("%w: kind %d: %v", errPeerMsg, b[1], err)
	}
	return m, nil
}

func readPeer(r *state.Reader, kind byte) runtime.Msg {
	switch kind {
	case peerSlotSend:
		m := slotSend{Slot: readSlotID(r), Reply: readReply(r), Hops: r.Byte()}
		m.Req.Ch, m.Req.Cmd = r.Channel(), r.SendCmd()
		m.Req.AtMs, m.Req.System, m.Retry = r.Int(), r.Bool(), r.Bool()
		return m
	case peerSlotPropose:
		return slotPropose{Slot: readSlotID(r), Reply: readReply(r), Hops: r.Byte(), Cmd: r.Command()}
	case peerSlotRead:
		return slotRead{Slot: readSlotID(r), Reply: readReply(r), Hops: r.Byte(), Query: readQuery(r)}
	case peerSendDone:
		m := sendDone{Reply: readReply(r)}
		m.Res = sendResult{Reason: proto.ReasonCode(r.Uint()), MessageID: r.Int(), Seq: r.Uint(), Duplicate: r.Bool(), Recorded: r.Bool(), Err: readErr(r)}
		return m
	case peerProposeDone:
		return proposeDone{Reply: readReply(r), Err: readErr(r)}
	case peerReadDone:
		m := readDone{Reply: readReply(r), Err: readErr(r)}
		if m.Err == nil {
			m.Result = readResultOf(r)
		}
		return m
	case peerDeliver:
		return deliverMsg{Msg: r.Message(), Recipients: r.Strs(), Except: readConn(r)}
	case peerKick:
		return kickMsg{UID: r.Str(), Flag: int(r.Int()), Except: readConn(r), Reason: r.Str(), Login: r.Bool(), Device: r.Str(), Master: r.Bool()}
	case peerGatewayRead:
		return gatewayRead{Reply: readReply(r), Query: queryOnline{UIDs: r.Strs()}}
	case peerSystem:
		return systemChanged{UIDs: r.Strs(), Index: r.Uint()}
	case peerLeaders:
		m := leadersMsg{From: runtime.NodeID(r.Uint())}
		n := r.Count()
		for range n {
			m.Slots = append(m.Slots, readSlotID(r))
			m.Terms = append(m.Terms, r.Uint())
		}
		return m
	case peerReplicaRemoved:
		return replicaRemoved{Slot: readSlotID(r), Term: r.Uint()}
	case peerNeedSnapshot:
		return needSnapshot{Slot: readSlotID(r)}
	}
	if m := readPresence(r, kind); m != nil {
		return m
	}
	r.Fail("kind")
	return nil
}

// readSlotID reads a slot id (or the controller group's); a negative one
// is refused (allSlots never crosses nodes), a too large one by the
// receiver, which knows its Slots.
func readSlotID(r *state.Reader) int {
	v := r.Int()
	if v < 0 || (v > state.MaxSlots && v != ctrlGroup) {
		r.Fail("slot")
		return 0
	}
	return int(v)
}

func writeReply(w *state.Writer, to replyTo) {
	w.Uint(uint64(to.Node))
	w.Str(to.Loop)
	w.Uint(to.Inc)
	w.Uint(to.Conn)
	w.Uint(uint64(to.ClientSeq))
	w.Uint(to.Req)
}

func readReply(r *state.Reader) replyTo {
	return replyTo{addr: addr{Node: runtime.NodeID(r.Uint()), Loop: r.Str(), Inc: r.Uint()}, Conn: r.Uint(), ClientSeq: r.Uint32(), Req: r.Uint()}
}

func writeConn(w *state.Writer, c connAddr) {
	w.Uint(uint64(c.Node))
	w.Str(c.Gateway)
	w.Uint(c.Conn)
}

func readConn(r *state.Reader) connAddr {
	return connAddr{Node: runtime.NodeID(r.Uint()), Gateway: r.Str(), Conn: r.Uint()}
}

// Errors cross as a code for the sentinels callers test with errors.Is,
// and the text.
const (
	errNone byte = iota
	errCodeNotLeader
	errCodeOverloaded
	errCodeTimeout
	errCodeOther
	errCodeDiskFull
)

// peerError is an error that crossed nodes: its text, and the sentinel it
// wraps, if any.
type peerError struct {
	msg  string
	base error
}

func (e *peerError) Error() string { return e.msg }
func (e *peerError) Unwrap() error { return e.base }

func writeErr(w *state.Writer, err error) {
	switch {
	case err == nil:
		w.Byte(errNone)
		return
	case errors.Is(err, ErrNotLeader):
		w.Byte(errCodeNotLeader)
	case errors.Is(err, ErrOverloaded):
		w.Byte(errCodeOverloaded)
	case errors.Is(err, ErrTimeout):
		w.Byte(errCodeTimeout)
	case errors.Is(err, ErrDiskFull):
		w.Byte(errCodeDiskFull)
	default:
		w.Byte(errCodeOther)
	}
	w.Str(err.Error())
}

func readErr(r *state.Reader) error {
	code := r.Byte()
	if code == errNone {
		return nil
	}
	msg := r.Str()
	switch code {
	case errCodeNotLeader:
		return &peerError{msg, ErrNotLeader}
	case errCodeOverloaded:
		return &peerError{msg, ErrOverloaded}
	case errCodeTimeout:
		return &peerError{msg, ErrTimeout}
	case errCodeDiskFull:
		return &peerError{msg, ErrDiskFull}
	case errCodeOther:
		return &peerError{msg: msg}
	}
	r.Fail("error code")
	return nil
}
