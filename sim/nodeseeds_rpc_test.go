package sim_test

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/jindou-im/jindou/chaos"
	"github.com/jindou-im/jindou/linearize"
	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/sim/world"
)

// JSON-RPC devices: some users also read on a WuKongIM Easy-SDK-style
// JSON-RPC connection, which receives what their other connections do
// and acknowledges it.

type seedRPCDevice struct {
	sw   *seedWorld
	uid  string
	c    *world.RPCClient
	rng  *rand.Rand
	conn string
}

// makeRPCDevices gives some users a JSON-RPC device, from the
// "rpc-devices" stream.
func (sw *seedWorld) makeRPCDevices() {
	r := rand.New(sw.Sim.Rand("rpc-devices"))
	for _, u := range sw.users {
		if r.IntN(4) != 0 {
			continue
		}
		d := &seedRPCDevice{sw: sw, uid: u.uid, rng: rand.New(sw.Sim.Rand("rpc-device/" + u.uid))}
		d.c = sw.NewRPCClient("rpc/"+u.uid, u.uid, "rpc0", 0)
		sw.rpcDevices = append(sw.rpcDevices, d)
	}
}

func (sw *seedWorld) connectRPCDevices() {
	for _, d := range sw.rpcDevices {
		d.start()
	}
}

func (d *seedRPCDevice) start() {
	c, sw := d.c, d.sw
	c.OnReady = func() { sw.History.ConnUser(d.conn, d.uid) }
	c.OnRecv = d.onRecv
	c.OnClosed = func() { c.Loop().After(time.Duration(200+d.rng.IntN(3000))*time.Millisecond, "connect") }
	c.OnTimer = func(tag any) {
		if tag == "connect" && !c.Open {
			d.connect()
		}
	}
	c.Loop().After(time.Duration(d.rng.IntN(2000))*time.Millisecond, "connect")
}

func (d *seedRPCDevice) connect() {
	d.sw.conns++
	d.conn = fmt.Sprintf("%s/rpc0#%d", d.uid, d.sw.conns)
	d.c.Connect()
}

func (d *seedRPCDevice) onRecv(r world.RPCRecv) {
	key := node.ChannelKey{Type: proto.ChannelType(r.ChannelType), ID: r.ChannelID}
	if r.ChannelType == 1 {
		key.ID = node.PersonChannelID(d.uid, r.ChannelID)
	}
	id, err := strconv.ParseInt(r.MessageID, 10, 64)
	if err != nil {
		d.sw.fail("%s: recv messageId %q: %v", d.conn, r.MessageID, err)
		return
	}
	d.sw.History.Received(d.sw.Now(), d.conn, key.String(), linearize.Message{Seq: uint64(r.MessageSeq), MessageID: id,
		FromUID: r.FromUID, ClientMsgNo: r.ClientMsgNo, Payload: string(r.Payload)})
	d.sw.res.coverage.Add(chaos.JSONRPCRecvs, 1)
}
