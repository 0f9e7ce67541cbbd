package node

import (
	"slices"

	"go.etcd.io/raft/v3"
)

// ClusterSlots reads this node's view of every slot: its replicas, the
// leader it believes in and, for the slots it replicates, raft's term and
// role, the applied and commit indexes and the log it holds. It reads this
// node alone, at once, with no leadership needed (for /cluster/slots).
// Reply: ClusterSlotsReply.
type ClusterSlots struct{}

// ClusterSlotsReply is ClusterSlots' answer.
type ClusterSlotsReply struct {
	// Members are the cluster's node ids, sorted (this node alone when it
	// is not in a cluster); ReplicaCount how many replicate each slot.
	Members      []uint64   `json:"members"`
	ReplicaCount int        `json:"replica_count"`
	Slots        []SlotInfo `json:"slots"` // in slot order
}

// SlotInfo is one slot as this node sees it. Leader is 0 when none is
// known here. Term, Role, Applied, Commit and the log fields are this
// node's replica's (zero when it holds none). The log holds the entries
// LogFirst..LogLast (none when LogFirst > LogLast: compacted to a
// snapshot).
type SlotInfo struct {
	Slot     int      `json:"slot"`
	Replicas []uint64 `json:"replicas"`
	Leader   uint64   `json:"leader"`
	Replica  bool     `json:"replica"`
	Role     string   `json:"role,omitempty"`
	Term     uint64   `json:"term"`
	Applied  uint64   `json:"applied"`
	Commit   uint64   `json:"commit"`
	LogFirst uint64   `json:"log_first"`
	LogLast  uint64   `json:"log_last"`
	// LogEntries is LogLast-LogFirst+1 (0 when compacted away).
	LogEntries uint64 `json:"log_entries"`
	// This replica's own figures since it was made here: the times it
	// became led here, the proposals and snapshots its leader made here,
	// and the latency from a proposal made here to its apply
	// (stats_delivery.go).
	LeaderChanges int64   `json:"leader_changes"`
	Proposals     int64   `json:"proposals"`
	SnapshotsSent int64   `json:"snapshots_sent"`
	CommitLatency Latency `json:"-"`
}

// querySlotInfo reads the loop's routed slots. Result: slotInfoResult.
type querySlotInfo struct{}

type slotInfoResult []SlotInfo

func (querySlotInfo) isSlotQuery()   {}
func (slotInfoResult) isReadResult() {}

func (ClusterSlots) run(a *apiLoop, done func(any, error)) error {
	a.gatherSlotLoops(querySlotInfo{}, true, func(parts []readResult, err error) {
		if err != nil {
			done(nil, err)
			return
		}
		peers := a.n.currentView().peers
		out := ClusterSlotsReply{ReplicaCount: min(a.n.cfg.ReplicaCount, len(peers))}
		for _, p := range peers {
			out.Members = append(out.Members, uint64(p))
		}
		for _, p := range parts {
			out.Slots = append(out.Slots, p.(slotInfoResult)...)
		}
		slices.SortFunc(out.Slots, func(x, y SlotInfo) int { return x.Slot - y.Slot })
		done(out, nil)
	})
	return nil
}

// slotInfo is the loop's view of the slots it routes.
func (sl *slotLoop) slotInfo() slotInfoResult {
	out := make(slotInfoResult, 0, len(sl.routed))
	for _, id := range sl.routed {
		info := SlotInfo{Slot: id, Replicas: slices.Clone(sl.n.currentView().targets(id)), Leader: uint64(sl.leaderOf(id))}
		if s := sl.slots[id]; s != nil {
			sl.replicaInfo(s, &info)
		}
		out = append(out, info)
	}
	return out
}

func (sl *slotLoop) replicaInfo(s *slot, info *SlotInfo) {
	st := s.rn.BasicStatus()
	info.Replica = true
	info.Role = roleName(st.RaftState)
	info.Term, info.Commit, info.Applied = st.GetTerm(), st.GetCommit(), s.applied
	first, _ := s.storage.FirstIndex()
	last, _ := s.storage.LastIndex()
	info.LogFirst, info.LogLast = first, last
	if last >= first {
		info.LogEntries = last - first + 1
	}
	c := s.counters
	info.LeaderChanges, info.Proposals, info.SnapshotsSent, info.CommitLatency = c.LeaderChanges, c.Proposals, c.SnapshotsSent, c.CommitLatency
}

func roleName(r raft.StateType) string {
	switch r {
	case raft.StateLeader:
		return "leader"
	case raft.StateCandidate, raft.StatePreCandidate:
		return "candidate"
	}
	return "follower"
}
