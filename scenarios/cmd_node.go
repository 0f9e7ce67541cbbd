package scenarios

import (
	"errors"
	"fmt"
	"strconv"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/runtime"
)

// node [slots=N] [token-auth] [idle=DURATION] [resend=DURATION]
//
// Starts the node and waits until it serves.
func (e *Env) cmdNode(t testing.TB, td *datadriven.TestData) error {
	if e.p != nil {
		return errors.New("the node exists already")
	}
	slots, err := strconv.Atoi(arg(td, "slots", "8"))
	if err != nil {
		return fmt.Errorf("slots: %w", err)
	}
	e.cfg = node.Config{Slots: slots, TokenAuth: hasArg(td, "token-auth")}
	if e.cfg.IdleTimeout, err = duration(td, "idle", "3m"); err != nil {
		return err
	}
	if e.cfg.ResendInterval, err = duration(td, "resend", "60s"); err != nil {
		return err
	}
	e.p = e.s.AddProcess(1, func() runtime.Process { return node.New(e.cfg) })
	e.p.Start()
	return e.waitReady()
}

// waitReady runs until the node's slots have caught up.
func (e *Env) waitReady() error {
	ready := false
	for i := 0; !ready && i < 100; i++ {
		r, err := e.call(node.Ready{})
		if err != nil {
			return err
		}
		if ready = r.(node.ReadyReply).Ready; !ready {
			if err := e.runFor(10e6); err != nil {
				return err
			}
		}
	}
	if !ready {
		return errors.New("the node never became ready")
	}
	e.printf("%s node ready", fmtTime(e.s.Now()))
	return nil
}

// crash [keep=PCT]
//
// Crashes the node, keeping PCT percent of its unsynced writes (default 0).
func (e *Env) cmdCrash(t testing.TB, td *datadriven.TestData) error {
	keep, err := strconv.Atoi(arg(td, "keep", "0"))
	if err != nil {
		return fmt.Errorf("keep: %w", err)
	}
	if e.node() == nil {
		return errors.New("the node is down")
	}
	e.p.Crash(keep)
	e.printf("%s node crashed, %d%% of unsynced writes kept", fmtTime(e.s.Now()), keep)
	return e.runFor(10e6)
}

// restart
//
// Starts the node again on its disk and waits until it serves.
func (e *Env) cmdRestart(t testing.TB, td *datadriven.TestData) error {
	if e.node() != nil {
		return errors.New("the node is up")
	}
	e.p.Start()
	return e.waitReady()
}

// stop
//
// Stops the node gracefully.
func (e *Env) cmdStop(t testing.TB, td *datadriven.TestData) error {
	if e.node() == nil {
		return errors.New("the node is down")
	}
	e.p.Stop()
	e.printf("%s node stopped", fmtTime(e.s.Now()))
	return e.runFor(10e6)
}
