package scenarios

import (
	"errors"
	"fmt"
	"strconv"
	"testing"

	"github.com/cockroachdb/datadriven"
)

// node [slots=N] [token-auth] [idle=DURATION] [resend=DURATION]
//
// Starts the node and waits until it serves.
func (e *Env) cmdNode(t testing.TB, td *datadriven.TestData) error {
	if e.n != 0 {
		return errors.New("the node exists already")
	}
	slots, err := strconv.Atoi(arg(td, "slots", "8"))
	if err != nil {
		return fmt.Errorf("slots: %w", err)
	}
	spec := nodeSpec{slots: slots, tokenAuth: hasArg(td, "token-auth")}
	if spec.idleTimeout, err = duration(td, "idle", "3m"); err != nil {
		return err
	}
	if spec.resendPeriod, err = duration(td, "resend", "60s"); err != nil {
		return err
	}
	if err := e.b.addNode(spec); err != nil {
		return err
	}
	e.n, e.slots = 1, slots
	e.printf("%s node ready", fmtTime(e.b.now()))
	return nil
}

// nodeName is "node" alone, or "node N" in a cluster.
func (e *Env) nodeName(id int) string {
	if len(e.b.nodeIDs()) == 1 {
		return "node"
	}
	return fmt.Sprintf("node %d", id)
}

// crash [keep=PCT] [node=N]
//
// Crashes the node, keeping PCT percent of its unsynced writes (default 0).
// Disk commits held by hold-disk are lost with it. On real processes it is
// a kill -9, which keeps every write in the page cache: keep=100 only.
func (e *Env) cmdCrash(t testing.TB, td *datadriven.TestData) error {
	keep, err := strconv.Atoi(arg(td, "keep", "0"))
	if err != nil {
		return fmt.Errorf("keep: %w", err)
	}
	id, err := e.target(td)
	if err != nil {
		return err
	}
	held, waiting, err := e.b.crash(id, keep)
	if err != nil {
		return err
	}
	lost := ""
	if held {
		lost = fmt.Sprintf(", held disk commits lost: %d", waiting)
	}
	e.printf("%s %s crashed, %d%% of unsynced writes kept%s", fmtTime(e.b.now()), e.nodeName(id), keep, lost)
	return e.runFor(10e6)
}

// restart [node=N]
//
// Starts the node again on its disk and waits until it serves.
func (e *Env) cmdRestart(t testing.TB, td *datadriven.TestData) error {
	id, err := e.target(td)
	if err != nil {
		return err
	}
	if err := e.b.restart(id); err != nil {
		return err
	}
	e.printf("%s %s ready", fmtTime(e.b.now()), e.nodeName(id))
	return nil
}

// stop
//
// Stops the node gracefully (SIGTERM on a real process).
func (e *Env) cmdStop(t testing.TB, td *datadriven.TestData) error {
	if e.n == 0 {
		return errors.New("there is no node")
	}
	if err := e.b.stop(e.n); err != nil {
		return err
	}
	e.printf("%s node stopped", fmtTime(e.b.now()))
	return e.runFor(10e6)
}

// hold-disk
//
// Holds the node's disk commits, as a stuck fsync would: a commit the node
// submits from now on neither runs nor completes until release-disk (or a
// crash, which loses it). Nothing that waits for such a commit (a SENDACK)
// is answered meanwhile. Simulator only.
func (e *Env) cmdHoldDisk(t testing.TB, td *datadriven.TestData) error {
	if e.n == 0 {
		return errors.New("there is no node")
	}
	if err := e.b.holdDisk(e.n); err != nil {
		return err
	}
	e.printf("%s node disk held", fmtTime(e.b.now()))
	return nil
}

// release-disk
//
// Lets the held disk commits complete, then runs 100ms. Simulator only.
func (e *Env) cmdReleaseDisk(t testing.TB, td *datadriven.TestData) error {
	if e.n == 0 {
		return errors.New("there is no node")
	}
	n, err := e.b.releaseDisk(e.n)
	if err != nil {
		return err
	}
	e.printf("%s node disk released, held commits: %d", fmtTime(e.b.now()), n)
	return e.runFor(100e6)
}
