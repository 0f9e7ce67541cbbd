package node

import (
	"fmt"

	"github.com/jindou-im/jindou/node/state"
)

// Membership requests: the cluster table as this node applied it, and the
// removal of a member (a node joins by configuration: Config.Join).

// ClusterMembers reads the cluster table this node routes from.
// Reply: ClusterMembersReply.
type ClusterMembers struct{}

// ClusterMembersReply is the cluster table: its version, the members and
// each slot's target replicas (first replica first). Known is false on a
// node that is joining and has not received the table yet.
type ClusterMembersReply struct {
	Known   bool         `json:"known"`
	Version uint64       `json:"version"`
	Members []MemberInfo `json:"members"`
	Slots   [][]uint64   `json:"slots"`
}

// MemberInfo is one member: its id, its peer address as it gave it when
// joining (empty for the initial members), and "active" or "removed".
type MemberInfo struct {
	ID     uint64 `json:"id"`
	Addr   string `json:"addr,omitempty"`
	Status string `json:"status"`
}

func (ClusterMembers) run(a *apiLoop, done func(any, error)) error {
	t := a.n.currentView().table
	if t == nil {
		done(ClusterMembersReply{}, nil)
		return nil
	}
	out := ClusterMembersReply{Known: true, Version: t.Version, Slots: t.clone().Slots}
	for _, m := range t.Members {
		out.Members = append(out.Members, MemberInfo(m))
	}
	done(out, nil)
	return nil
}

// RemoveMember removes member ID from the cluster: the slots' leaders move
// its replicas to the other members (membership.go); the node itself may
// then be stopped. The last active member cannot be removed. Reply: nil.
type RemoveMember struct {
	ID uint64 `json:"id"`
}

func (r RemoveMember) run(a *apiLoop, done func(any, error)) error {
	t := a.n.currentView().table
	if t == nil {
		return &BadRequest{Field: "id", Msg: "this node has not joined the cluster yet"}
	}
	m, ok := t.member(r.ID)
	switch {
	case !ok || m.Status != memberActive:
		return &BadRequest{Field: "id", Msg: fmt.Sprintf("%d is not an active member (members: %v)", r.ID, t.active())}
	case len(t.active()) == 1:
		return &BadRequest{Field: "id", Msg: fmt.Sprintf("%d is the last member: a cluster needs one", r.ID)}
	}
	a.proposeReply(ctrlGroup, &state.Command{Op: opClusterRemove, Seq: r.ID}, done)
	return nil
}
