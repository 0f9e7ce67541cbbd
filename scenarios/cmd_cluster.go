package scenarios

import (
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
	"github.com/jindou-im/jindou/node/state"
)

// cluster nodes=N [slots=N] [replicas=N]
//
// Starts a cluster of nodes 1..N and waits until every node serves. The
// commands that name a node (node=N: connect, api, crash, restart) default
// to node 1.
func (e *Env) cmdCluster(t testing.TB, td *datadriven.TestData) error {
	if e.n != 0 {
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
	if err := e.b.addCluster(clusterSpec{size: size, slots: slots, replicas: replicas}); err != nil {
		return err
	}
	e.n, e.slots = 1, slots
	e.printf("%s cluster of %d ready", fmtTime(e.b.now()), size)
	return nil
}

// leader channel=ID [type=group|person]
//
// Prints the node that leads the channel's slot.
func (e *Env) cmdLeader(t testing.TB, td *datadriven.TestData) error {
	ch := channelArg(td, "channel", "group")
	slot := state.SlotOfChannel(ch, e.slots)
	id, err := e.b.leaderOf(slot)
	if err != nil {
		return err
	}
	if id == 0 {
		e.printf("slot %d of %s has no leader", slot, ch.ID)
		return nil
	}
	e.printf("node %d leads slot %d of %s", id, slot, ch.ID)
	return nil
}

// partition node=N | leader-of=CHANNEL
//
// Cuts every link to and from the node (or the node leading the channel's
// group slot), then runs 10ms.
func (e *Env) cmdPartition(t testing.TB, td *datadriven.TestData) error {
	var id int
	if name := arg(td, "leader-of", ""); name != "" {
		var err error
		if id, err = e.b.leaderOf(state.SlotOfChannel(channelArg(td, "leader-of", "group"), e.slots)); err != nil {
			return err
		}
		if id == 0 {
			return fmt.Errorf("%s's slot has no leader", name)
		}
	} else {
		var err error
		if id, err = e.target(td); err != nil {
			return err
		}
	}
	if err := e.b.isolate(id); err != nil {
		return err
	}
	e.printf("%s node %d cut off from the others", fmtTime(e.b.now()), id)
	return e.runFor(10 * time.Millisecond)
}

// heal
//
// Restores every link, then runs 10ms.
func (e *Env) cmdHeal(t testing.TB, td *datadriven.TestData) error {
	if err := e.b.heal(); err != nil {
		return err
	}
	e.printf("%s links healed", fmtTime(e.b.now()))
	return e.runFor(10 * time.Millisecond)
}

// target is the node a command names with node=N, or node 1.
func (e *Env) target(td *datadriven.TestData) (int, error) {
	if e.n == 0 {
		return 0, errors.New("there is no node")
	}
	s := arg(td, "node", "")
	if s == "" {
		return e.n, nil
	}
	id, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("node: %w", err)
	}
	if id < 1 || id > len(e.b.nodeIDs()) {
		return 0, fmt.Errorf("no node %d", id)
	}
	return id, nil
}

// replicas channel=ID [type=group|person]
//
// Prints, for each node replicating the channel's slot, its applied index
// and whether its state is the same as every other replica's at that
// index.
func (e *Env) cmdReplicas(t testing.TB, td *datadriven.TestData) error {
	slot := state.SlotOfChannel(channelArg(td, "channel", "group"), e.slots)
	digests := map[uint64]uint64{}
	for _, id := range e.b.nodeIDs() {
		if !e.b.up(id) {
			e.printf("node %d down", id)
			continue
		}
		ds, err := e.b.slotDigests(id)
		if err != nil {
			return err
		}
		for _, d := range ds {
			if d.Slot != slot {
				continue
			}
			same := "same state as the other replicas at this index"
			if prev, ok := digests[d.Applied]; ok && prev != d.Digest {
				same = "DIFFERENT state from another replica at this index"
			}
			digests[d.Applied] = d.Digest
			e.printf("node %d: slot %d applied %d, %s", id, slot, d.Applied, same)
		}
	}
	return nil
}
