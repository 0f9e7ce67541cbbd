package scenarios

import (
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/node/state"
	"github.com/jindou-im/jindou/runtime"
	"github.com/jindou-im/jindou/sim/world"
)

// cluster nodes=N [slots=N] [replicas=N]
//
// Starts a cluster of nodes 1..N and waits until every node serves. The
// commands that name a node (node=N: connect, api, crash, restart) default
// to node 1.
func (e *Env) cmdCluster(t testing.TB, td *datadriven.TestData) error {
	if e.n != nil {
		return errors.New("the node exists already")
	}
	size, err := strconv.Atoi(arg(td, "nodes", "3"))
	if err != nil || size < 1 {
		return fmt.Errorf("nodes: want a count")
	}
	slots, err := strconv.Atoi(arg(td, "slots", "8"))
	if err != nil {
		return fmt.Errorf("slots: %w", err)
	}
	replicas, err := strconv.Atoi(arg(td, "replicas", "3"))
	if err != nil {
		return fmt.Errorf("replicas: %w", err)
	}
	nodes := e.w.AddCluster(size, node.Config{Slots: slots, ReplicaCount: replicas})
	e.n = nodes[0]
	for _, n := range nodes {
		if err := n.AwaitReady(); err != nil {
			return err
		}
	}
	e.printf("%s cluster of %d ready", fmtTime(e.w.Now()), size)
	return nil
}

// leader channel=ID [type=group|person]
//
// Prints the node that leads the channel's slot.
func (e *Env) cmdLeader(t testing.TB, td *datadriven.TestData) error {
	ch := channelArg(td, "channel", "group")
	slot := state.SlotOfChannel(ch, e.n.Config.Slots)
	n := e.w.LeaderOf(slot)
	if n == nil {
		e.printf("slot %d of %s has no leader", slot, ch.ID)
		return nil
	}
	e.printf("node %d leads slot %d of %s", n.ID(), slot, ch.ID)
	return nil
}

// partition node=N | leader-of=CHANNEL
//
// Cuts every link to and from the node (or the node leading the channel's
// group slot), then runs 10ms.
func (e *Env) cmdPartition(t testing.TB, td *datadriven.TestData) error {
	var n *world.Node
	if id := arg(td, "leader-of", ""); id != "" {
		ch := channelArg(td, "leader-of", "group")
		if n = e.w.LeaderOf(state.SlotOfChannel(ch, e.n.Config.Slots)); n == nil {
			return fmt.Errorf("%s's slot has no leader", id)
		}
	} else {
		var err error
		if n, err = e.target(td); err != nil {
			return err
		}
	}
	e.w.Sim.Isolate(n.ID())
	e.printf("%s node %d cut off from the others", fmtTime(e.w.Now()), n.ID())
	return e.runFor(10 * time.Millisecond)
}

// heal
//
// Restores every link, then runs 10ms.
func (e *Env) cmdHeal(t testing.TB, td *datadriven.TestData) error {
	e.w.Sim.Heal()
	e.printf("%s links healed", fmtTime(e.w.Now()))
	return e.runFor(10 * time.Millisecond)
}

// target is the node a command names with node=N, or node 1.
func (e *Env) target(td *datadriven.TestData) (*world.Node, error) {
	s := arg(td, "node", "")
	if s == "" {
		if e.n == nil {
			return nil, errors.New("there is no node")
		}
		return e.n, nil
	}
	id, err := strconv.Atoi(s)
	if err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	n := e.w.Node(runtime.NodeID(id))
	if n == nil {
		return nil, fmt.Errorf("no node %d", id)
	}
	return n, nil
}

// replicas channel=ID [type=group|person]
//
// Prints, for each node replicating the channel's slot, its applied index
// and whether its state is the same as every other replica's at that
// index.
func (e *Env) cmdReplicas(t testing.TB, td *datadriven.TestData) error {
	slot := state.SlotOfChannel(channelArg(td, "channel", "group"), e.n.Config.Slots)
	digests := map[uint64]uint64{}
	for _, n := range e.w.Nodes() {
		if !n.Up() {
			e.printf("node %d down", n.ID())
			continue
		}
		v, err := n.Call(node.SlotDigests{})
		if err != nil {
			return err
		}
		for _, d := range v.([]node.SlotDigest) {
			if d.Slot != slot {
				continue
			}
			same := "same state as the other replicas at this index"
			if prev, ok := digests[d.Applied]; ok && prev != d.Digest {
				same = "DIFFERENT state from another replica at this index"
			}
			digests[d.Applied] = d.Digest
			e.printf("node %d: slot %d applied %d, %s", n.ID(), slot, d.Applied, same)
		}
	}
	return nil
}
