package world

import (
	"fmt"

	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/runtime"
	"github.com/jindou-im/jindou/wkclient"
)

// Client is a simulated WKProto connection of a user, on an actor loop of
// its own. Sent is one of its SENDs in flight. Both are the client
// package's types: replacing that package is an import change here.
type (
	Client = wkclient.Client
	Sent   = wkclient.Sent
)

// ClientSpec says who a client is and where it connects.
type ClientSpec struct {
	// Name names the client's actor loop and its random stream; "" means
	// "UID/Device".
	Name        string
	UID, Device string
	// Flag is the device flag (zero: app).
	Flag proto.DeviceFlag
	// Version is the protocol version it announces (zero: the latest).
	Version uint8
	// Node is the node it dials (zero: the lowest id added when it dials;
	// node 1 if there is none, which refuses the connection).
	Node runtime.NodeID
	// Pick, if set, chooses the node of each dial instead (its first and
	// every reconnection), e.g. a random node that is up.
	Pick func() runtime.NodeID
}

// Client makes a client of uid on an app device speaking the latest
// protocol version, not yet connected.
func (w *World) Client(uid, device string) *Client {
	return w.NewClient(ClientSpec{UID: uid, Device: device})
}

// NewClient makes a client as spec says, not yet connected. Its key
// exchange draws from the world's stream "client/<name>".
func (w *World) NewClient(spec ClientSpec) *Client {
	if spec.Name == "" {
		spec.Name = spec.UID + "/" + spec.Device
	}
	if spec.Version == 0 {
		spec.Version = proto.LatestVersion
	}
	c := wkclient.New(spec.UID, spec.Device, spec.Flag, spec.Version, w.Sim.Rand("client/"+spec.Name))
	loop := w.Sim.NewActor(spec.Name, c)
	c.Attach(loop, func() runtime.Conn {
		id := spec.Node
		if spec.Pick != nil {
			id = spec.Pick()
		}
		return w.Sim.Dial(loop, w.dialed(id), "tcp")
	})
	return c
}

// Connect connects c and runs until it is ready (its CONNACK succeeded);
// the test fails if it is not within the world's patience.
func (w *World) Connect(c *Client) *Client {
	w.t.Helper()
	c.Connect()
	w.Until(fmt.Sprintf("%s/%s connects", c.UID, c.DeviceID), func() bool { return c.Ready })
	return c
}

// Connected makes a client of uid on an app device and connects it.
func (w *World) Connected(uid, device string) *Client {
	w.t.Helper()
	return w.Connect(w.Client(uid, device))
}

// Cut cuts c's current connection, as the network would.
func (w *World) Cut(c *Client) { w.Sim.Cut(c.Conn()) }
