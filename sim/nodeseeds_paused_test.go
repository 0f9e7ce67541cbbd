package sim_test

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/runtime"
	"github.com/jindou-im/jindou/sim/world"
)

// Readers that stop reading their socket, and the runtime's output budget
// that cuts them (sim/output.go, the reactor's caps simulated).
//
// In half the seeds some users have one more device that, a while after
// each login, stops reading its connection for up to a few seconds and
// then reads again (getting what was held, in order), unless the node cut
// it for what it owed: the seed's output budget is drawn small enough for
// the traffic to pass it (the per-connection cap; in half of them the
// total below it, so that the cut is the budget's). A cut device logs in
// again a while later. Readers that keep reading owe nothing and are never
// cut. The coverage counter output_cuts fails a seed set in which
// no connection was cut for its output.

// drawOutputBudget decides, from the seed's "paused" stream, whether the
// seed has readers that stop reading, and draws the output budget.
func (sw *seedWorld) drawOutputBudget() {
	r := rand.New(sw.Sim.Rand("paused"))
	if sw.paused = r.IntN(2) == 1; !sw.paused {
		return
	}
	// The seeds' traffic is light: a device gets a few KiB a second.
	b := runtime.OutputBudget{PerConn: 1<<10 + r.IntN(3<<10)}
	if r.IntN(2) == 0 {
		b.Total = int64(b.PerConn / 2)
	}
	sw.Sim.SetOutputBudget(b)
	sw.Sim.SetSocketBuffer(r.IntN(2 << 10))
}

// makePausedReaders gives some users a device that stops reading now and
// then, from the "paused-readers" stream.
func (sw *seedWorld) makePausedReaders() {
	if !sw.paused {
		return
	}
	r := rand.New(sw.Sim.Rand("paused-readers"))
	pick := rand.New(sw.Sim.Rand("paused-pick"))
	for i := range 1 + r.IntN(3) {
		u := sw.pausedUser(r)
		c := sw.NewClient(world.ClientSpec{UID: u.uid, Device: fmt.Sprintf("paused%d", i), Flag: u.c.Flag, Version: u.c.Version,
			Pick: func() runtime.NodeID {
				up := sw.upNodes()
				if len(up) == 0 {
					return sw.nodes[pick.IntN(len(sw.nodes))].ID()
				}
				return up[pick.IntN(len(up))].ID()
			}})
		rng := rand.New(sw.Sim.Rand(fmt.Sprintf("paused/%d", i)))
		gen := 0 // the login a pause or resume belongs to
		after := func(minMs, spanMs int, kind string) {
			c.Loop().After(time.Duration(minMs+rng.IntN(spanMs))*time.Millisecond, pausedTag{kind, gen})
		}
		c.OnConnack = func(*proto.Connack) { gen++; after(200, 2000, "pause") }
		c.OnClosed = func(error) { after(500, 2500, "connect") }
		c.OnTimer = func(tag any) {
			t, _ := tag.(pausedTag)
			switch {
			case t.kind == "connect" && !c.Open && !sw.quiet:
				c.Connect()
			case t.gen != gen || !c.Ready:
			case t.kind == "pause" && !sw.quiet:
				sw.Sim.StopReading(c.Conn())
				after(500, 6000, "resume")
			case t.kind == "resume":
				sw.Sim.ResumeReading(c.Conn())
				after(200, 2000, "pause")
			}
		}
		after(0, 2000, "connect")
	}
}

// pausedTag is a paused reader's timer: connect, pause or resume, and the
// login it belongs to.
type pausedTag struct {
	kind string
	gen  int
}

// pausedUser draws a user, a member of the largest group if there is one
// (the most traffic).
func (sw *seedWorld) pausedUser(r *rand.Rand) *seedUser {
	var most []string
	for _, ch := range sw.channels {
		if m := sw.members[ch]; len(m) > len(most) {
			most = m
		}
	}
	if len(most) > 0 {
		uid := most[r.IntN(len(most))]
		for _, u := range sw.users {
			if u.uid == uid {
				return u
			}
		}
	}
	return sw.users[r.IntN(len(sw.users))]
}
