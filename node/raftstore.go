package node

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"github.com/jindou-im/jindou/node/state"
	"go.etcd.io/raft/v3"
	pb "go.etcd.io/raft/v3/raftpb"
	gproto "google.golang.org/protobuf/proto"
)

// The raft store's writes and the raft messages between nodes (the keys
// are state's: state/keys.go lays out both stores).

// persistReady writes what a Ready asks to make durable into b: new
// entries (deleting any tail after them that a new leader replaced: the
// stored log ended at prevLast), and the HardState.
func persistReady(b *pebble.Batch, slot int, rd *raft.Ready, prevLast uint64, fresh bool, cs *pb.ConfState, buf *entryBufs) {
	if fresh {
		mustSet(b, state.ConfStateKey(slot), marshal(cs))
	}
	if n := len(rd.Entries); n > 0 {
		for _, e := range rd.Entries {
			buf.key = state.AppendRaftEntryKey(buf.key[:0], slot, e.GetIndex())
			val, err := gproto.MarshalOptions{}.MarshalAppend(buf.val[:0], e)
			if err != nil {
				panic(fmt.Sprintf("node: marshal entry: %v", err))
			}
			buf.val = val
			mustSet(b, buf.key, buf.val)
		}
		// A new leader's entries replace everything after them. (A range
		// deletion only when needed: Pebble's reads pay for each one.)
		if last := rd.Entries[n-1].GetIndex(); last < prevLast {
			if err := b.DeleteRange(state.RaftEntryKey(slot, last+1), state.RaftEntryKey(slot, prevLast+1), nil); err != nil {
				panic(err)
			}
		}
	}
	if rd.HardState != nil && !raft.IsEmptyHardState(rd.HardState) {
		mustSet(b, state.HardStateKey(slot), marshal(rd.HardState))
	}
}

// entryBufs are a slot loop's buffers for the raft entries it writes:
// Pebble copies keys and values into the batch.
type entryBufs struct{ key, val []byte }

func marshal(m gproto.Message) []byte {
	b, err := gproto.Marshal(m)
	if err != nil {
		panic(fmt.Sprintf("node: marshal %T: %v", m, err))
	}
	return b
}

func mustSet(b *pebble.Batch, k, v []byte) {
	if err := b.Set(k, v, nil); err != nil {
		panic(fmt.Sprintf("node: batch set: %v", err))
	}
}

// A raft message between nodes is its slot (u16) followed by the message.

func encodeRaftMsg(slot int, m *pb.Message) []byte {
	return append(binary.BigEndian.AppendUint16([]byte{peerFormat, peerRaft}, uint16(slot)), marshal(m)...)
}

// isRaftMsg reports whether a peer message is a raft message.
func isRaftMsg(b []byte) bool { return len(b) >= 2 && b[0] == peerFormat && b[1] == peerRaft }

// errShortRaftMsg is a peer message too short to name its slot.
var errShortRaftMsg = errors.New("node: raft message without its slot")

func decodeRaftMsg(b []byte) (slot int, m *pb.Message, err error) {
	if len(b) < 4 || !isRaftMsg(b) {
		return 0, nil, errShortRaftMsg
	}
	m = &pb.Message{}
	if err := gproto.Unmarshal(b[4:], m); err != nil {
		return 0, nil, err
	}
	return int(binary.BigEndian.Uint16(b[2:])), m, nil
}

func unmarshalConfChange(e *pb.Entry, cc *pb.ConfChangeV2) error {
	if e.GetType() == pb.EntryType_EntryConfChangeV2 {
		return gproto.Unmarshal(e.GetData(), cc)
	}
	var v1 pb.ConfChange
	if err := gproto.Unmarshal(e.GetData(), &v1); err != nil {
		return err
	}
	*cc = *v1.AsV2()
	return nil
}
