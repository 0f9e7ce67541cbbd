package scenarios

import (
	"errors"
	"fmt"
	"strconv"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/sim/world"
)

// node [slots=N] [token-auth] [idle=DURATION] [resend=DURATION]
//
// Starts the node and waits until it serves.
func (e *Env) cmdNode(t testing.TB, td *datadriven.TestData) error {
	if e.n != nil {
		return errors.New("the node exists already")
	}
	slots, err := strconv.Atoi(arg(td, "slots", "8"))
	if err != nil {
		return fmt.Errorf("slots: %w", err)
	}
	cfg := node.Config{Slots: slots, TokenAuth: hasArg(td, "token-auth")}
	if cfg.IdleTimeout, err = duration(td, "idle", "3m"); err != nil {
		return err
	}
	if cfg.ResendInterval, err = duration(td, "resend", "60s"); err != nil {
		return err
	}
	e.n = e.w.AddNode(1, cfg)
	return e.waitReady()
}

// nodeName is "node" alone, or "node N" in a cluster.
func (e *Env) nodeName(n *world.Node) string {
	if len(e.w.Nodes()) == 1 {
		return "node"
	}
	return fmt.Sprintf("node %d", n.ID())
}

// waitReady runs until the node's slots have caught up.
func (e *Env) waitReady() error {
	if err := e.n.AwaitReady(); err != nil {
		return err
	}
	e.printf("%s node ready", fmtTime(e.w.Now()))
	return nil
}

// crash [keep=PCT] [node=N]
//
// Crashes the node, keeping PCT percent of its unsynced writes (default 0).
// Disk commits held by hold-disk are lost with it.
func (e *Env) cmdCrash(t testing.TB, td *datadriven.TestData) error {
	keep, err := strconv.Atoi(arg(td, "keep", "0"))
	if err != nil {
		return fmt.Errorf("keep: %w", err)
	}
	n, err := e.target(td)
	if err != nil || !n.Up() {
		return errors.New("the node is down")
	}
	held, waiting := n.Proc().DiskHeld()
	n.Crash(keep)
	lost := ""
	if held {
		lost = fmt.Sprintf(", held disk commits lost: %d", waiting)
	}
	e.printf("%s %s crashed, %d%% of unsynced writes kept%s", fmtTime(e.w.Now()), e.nodeName(n), keep, lost)
	return e.runFor(10e6)
}

// restart [node=N]
//
// Starts the node again on its disk and waits until it serves.
func (e *Env) cmdRestart(t testing.TB, td *datadriven.TestData) error {
	n, err := e.target(td)
	if err != nil || n.Up() {
		return errors.New("the node is up")
	}
	if err := n.Start(); err != nil {
		return err
	}
	if err := n.AwaitReady(); err != nil {
		return err
	}
	e.printf("%s %s ready", fmtTime(e.w.Now()), e.nodeName(n))
	return nil
}

// stop
//
// Stops the node gracefully.
func (e *Env) cmdStop(t testing.TB, td *datadriven.TestData) error {
	if !e.up() {
		return errors.New("the node is down")
	}
	e.n.Stop()
	e.printf("%s node stopped", fmtTime(e.w.Now()))
	return e.runFor(10e6)
}

// hold-disk
//
// Holds the node's disk commits, as a stuck fsync would: a commit the node
// submits from now on neither runs nor completes until release-disk (or a
// crash, which loses it). Nothing that waits for such a commit (a SENDACK)
// is answered meanwhile.
func (e *Env) cmdHoldDisk(t testing.TB, td *datadriven.TestData) error {
	if !e.up() {
		return errors.New("the node is down")
	}
	e.n.HoldDisk()
	e.printf("%s node disk held", fmtTime(e.w.Now()))
	return nil
}

// release-disk
//
// Lets the held disk commits complete, then runs 100ms.
func (e *Env) cmdReleaseDisk(t testing.TB, td *datadriven.TestData) error {
	if !e.up() {
		return errors.New("the node is down")
	}
	if held, _ := e.n.Proc().DiskHeld(); !held {
		return errors.New("the disk is not held")
	}
	e.printf("%s node disk released, held commits: %d", fmtTime(e.w.Now()), e.n.ReleaseDisk())
	return e.runFor(100e6)
}
