package sim_test

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jindou-im/jindou/chaos"
	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/sim"
	"github.com/jindou-im/jindou/sim/world"
)

// Users' other devices: receivers with another device flag than the
// user's sending connection, some two on one flag (each login kicks the
// other), some slow readers that acknowledge RECVs late or never.

// seedDevice is one extra device of a user; it only receives.
type seedDevice struct {
	sw   *seedWorld
	uid  string
	c    *world.Client
	rng  *rand.Rand
	conn string
	// ackDelay draws how long the device waits to acknowledge a RECV
	// (negative: never); nil acknowledges at once (AutoAck).
	ackDelay func() time.Duration
	// latency, if not zero, is the one-way latency of the device's
	// connections: a reader on a slow network.
	latency time.Duration
}

// ackTag is a late RECVACK's timer.
type ackTag struct {
	conn string
	r    *proto.Recv
}

// makeDevices gives some users other devices, from the "devices" stream.
func (sw *seedWorld) makeDevices() {
	r := rand.New(sw.Sim.Rand("devices"))
	slow := rand.New(sw.Sim.Rand("device-latency"))
	for _, u := range sw.users {
		if r.IntN(3) != 0 {
			continue
		}
		flag := proto.DeviceFlag((int(u.c.Flag) + 1 + r.IntN(2)) % 3)
		n := 1 + r.IntN(2) // two: the same flag twice
		for i := range n {
			d := &seedDevice{sw: sw, uid: u.uid, rng: rand.New(sw.Sim.Rand(fmt.Sprintf("device/%s/%d", u.uid, i)))}
			d.c = sw.NewClient(world.ClientSpec{UID: u.uid, Device: fmt.Sprintf("e%d", i), Flag: flag, Version: u.c.Version})
			if r.IntN(2) == 0 {
				d.c.AutoAck = false
				d.ackDelay = func() time.Duration {
					switch d.rng.IntN(5) {
					case 0:
						return -1
					case 1, 2:
						return time.Duration(500+d.rng.IntN(8000)) * time.Millisecond
					}
					return time.Duration(1+d.rng.IntN(50)) * time.Millisecond
				}
			}
			if slow.IntN(3) == 0 {
				d.latency = time.Duration(20+slow.IntN(300)) * time.Millisecond
			}
			sw.devices = append(sw.devices, d)
		}
	}
}

func (sw *seedWorld) connectDevices() {
	for _, d := range sw.devices {
		d.start()
	}
}

func (d *seedDevice) start() {
	c, sw := d.c, d.sw
	c.OnConnack = func(p *proto.Connack) {
		if p.ReasonCode != proto.ReasonSuccess {
			return // a token changed meanwhile: try again later
		}
		sw.History.ConnUser(d.conn, d.uid)
		sw.res.coverage.Add(chaos.MultiDevice, 1)
	}
	c.OnRecv = d.onRecv
	c.OnDisconnect = func(p *proto.Disconnect) { sw.History.Disconnected(sw.Now(), d.conn, p.Reason) }
	c.OnClosed = func(error) { c.Loop().After(time.Duration(200+d.rng.IntN(3000))*time.Millisecond, "connect") }
	c.OnTimer = func(tag any) {
		switch tag := tag.(type) {
		case string:
			if tag == "connect" && !c.Open {
				d.connect()
			}
		case ackTag:
			if tag.conn == d.conn && c.Ready {
				c.Ack(tag.r)
				sw.res.coverage.Add(chaos.ManualAcks, 1)
			}
		}
	}
	c.Loop().After(time.Duration(d.rng.IntN(2000))*time.Millisecond, "connect")
}

func (d *seedDevice) connect() {
	d.sw.conns++
	d.conn = fmt.Sprintf("%s/%s#%d", d.uid, d.c.DeviceID, d.sw.conns)
	if d.latency == 0 {
		d.c.Connect()
		return
	}
	// A connection takes the simulator's connection config when dialed.
	s := d.sw.Sim
	was := s.ConnConfig()
	s.SetConnConfig(sim.ConnConfig{LatencyMin: d.latency / 2, LatencyMax: d.latency, Fragment: was.Fragment})
	d.c.Connect()
	s.SetConnConfig(was)
}

func (d *seedDevice) onRecv(r *proto.Recv, plain []byte) {
	key := node.ChannelKey{Type: r.ChannelType, ID: r.ChannelID}
	if r.ChannelType == proto.ChannelPerson {
		key.ID = node.PersonChannelID(d.uid, r.ChannelID)
	}
	d.sw.History.Received(d.sw.Now(), d.conn, key.String(), recvMessage(r, plain))
	if d.ackDelay != nil {
		if wait := d.ackDelay(); wait >= 0 {
			d.c.Loop().After(wait, ackTag{d.conn, r})
		}
	}
}
