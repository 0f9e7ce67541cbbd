package node

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/jindou-im/jindou/runtime"
	pb "go.etcd.io/raft/v3/raftpb"
)

// Snapshots travel in bounded chunks. A raft message carrying a snapshot
// (a slot's whole applied state) is cut into chunks of at most
// Config.SnapshotChunkBytes, each its own peer message:
//
//	peerFormat | peerSnapChunk | slot (u16) | id (u64) | index (u32) | count (u32) | bytes
//
// where id tells one snapshot from the next (the snapshot's index) and the
// bytes of every chunk, in index order, are the raft message's peer
// encoding. The receiving slot loop gathers the chunks of the latest id
// (in any order, a repeat ignored), and once it has them all decodes the
// message and steps it into raft as if it had come whole; the state
// machine then replaces the slot's state in one batch (snapshot.go), so
// a snapshot is applied atomically or not at all. A lost chunk leaves the
// gathering incomplete: raft, which was told the snapshot was sent, probes
// the follower again and sends a new one; an incomplete gathering is
// dropped when a newer snapshot starts or after snapshotGatherTimeout.

// Limits of the gathering.
const (
	// maxSnapshotBytes bounds one gathered snapshot: chunks announcing more
	// are refused (a peer's input).
	maxSnapshotBytes = 4 << 30
	// snapshotGatherTimeout drops an incomplete gathering (a lost chunk:
	// raft sends a new snapshot).
	snapshotGatherTimeout = 30 * time.Second
	// snapChunkHeader is a chunk's size before its bytes.
	snapChunkHeader = 2 + 2 + 8 + 4 + 4
)

// errSnapChunk is a chunk that does not decode or does not fit.
var errSnapChunk = errors.New("node: malformed snapshot chunk")

// snapGather is the chunks of one snapshot received so far.
type snapGather struct {
	id       uint64
	parts    [][]byte
	have     int
	startsAt time.Duration
}

// sendSnapshot sends the raft message m (a MsgSnap) of slot to m's
// recipient in chunks, or whole if it fits in one.
func (sl *slotLoop) sendSnapshot(slot int, m *pb.Message) {
	whole := encodeRaftMsg(slot, m)
	size := sl.n.cfg.SnapshotChunkBytes
	to := runtime.NodeID(m.GetTo())
	if len(whole) <= size {
		sl.n.env.Transport().Send(to, sl.loop.Name(), whole)
		return
	}
	count := (len(whole) + size - 1) / size
	id := m.GetSnapshot().GetMetadata().GetIndex()
	for i := range count {
		part := whole[i*size : min(len(whole), (i+1)*size)]
		sl.n.env.Transport().Send(to, sl.loop.Name(), encodeSnapChunk(slot, id, i, count, part))
		sl.stats.SnapshotChunks++
	}
}

func encodeSnapChunk(slot int, id uint64, index, count int, part []byte) []byte {
	b := make([]byte, 0, snapChunkHeader+len(part))
	b = append(b, peerFormat, peerSnapChunk)
	b = binary.BigEndian.AppendUint16(b, uint16(slot))
	b = binary.BigEndian.AppendUint64(b, id)
	b = binary.BigEndian.AppendUint32(b, uint32(index))
	b = binary.BigEndian.AppendUint32(b, uint32(count))
	return append(b, part...)
}

// isSnapChunk reports whether a peer message is a snapshot chunk.
func isSnapChunk(b []byte) bool { return len(b) >= 2 && b[0] == peerFormat && b[1] == peerSnapChunk }

type snapChunk struct {
	slot         int
	id           uint64
	index, count int
	part         []byte
}

func decodeSnapChunk(b []byte, chunkBytes int) (snapChunk, error) {
	if len(b) < snapChunkHeader || !isSnapChunk(b) {
		return snapChunk{}, errSnapChunk
	}
	c := snapChunk{
		slot:  int(binary.BigEndian.Uint16(b[2:])),
		id:    binary.BigEndian.Uint64(b[4:]),
		index: int(binary.BigEndian.Uint32(b[12:])),
		count: int(binary.BigEndian.Uint32(b[16:])),
		part:  b[snapChunkHeader:],
	}
	if c.count < 2 || c.index >= c.count || int64(c.count)*int64(chunkBytes) > maxSnapshotBytes || len(c.part) == 0 {
		return snapChunk{}, errSnapChunk
	}
	return c, nil
}

// onSnapChunk gathers a chunk; with the last one, the whole message is
// handled as a raft message of its slot.
func (sl *slotLoop) onSnapChunk(e runtime.PeerMsg) {
	c, err := decodeSnapChunk(e.Data, sl.n.cfg.SnapshotChunkBytes)
	s := sl.slots[c.slot]
	if err != nil || s == nil || s.removed {
		sl.stats.PeerDropped++
		return
	}
	g := sl.gathering[c.slot]
	if g == nil || c.id > g.id || len(g.parts) != c.count {
		if g != nil && c.id < g.id {
			return // a chunk of an older snapshot
		}
		g = &snapGather{id: c.id, parts: make([][]byte, c.count), startsAt: sl.n.env.Clock().Now()}
		if sl.gathering == nil {
			sl.gathering = map[int]*snapGather{} // made on first use
		}
		sl.gathering[c.slot] = g
	}
	if c.id != g.id || g.parts[c.index] != nil {
		return // older, or a repeat
	}
	g.parts[c.index] = append([]byte(nil), c.part...)
	g.have++
	if g.have < len(g.parts) {
		return
	}
	delete(sl.gathering, c.slot)
	var whole []byte
	for _, p := range g.parts {
		whole = append(whole, p...)
	}
	if !isRaftMsg(whole) {
		sl.stats.PeerDropped++
		return
	}
	sl.stats.SnapshotsGathered++
	sl.onPeer(runtime.PeerMsg{From: e.From, Data: whole})
}

// expireGatherings drops gatherings that waited too long for a chunk.
func (sl *slotLoop) expireGatherings() {
	now := sl.n.env.Clock().Now()
	//lint:maporder order-free: deleting the expired gatherings ends the same in any order
	for id, g := range sl.gathering {
		if now-g.startsAt >= snapshotGatherTimeout {
			delete(sl.gathering, id)
		}
	}
}
