package scenarios

import (
	"time"

	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/node/proto"
)

// backend is the world a scenario runs against: the simulator
// (backend_sim.go) or real jindou processes on this machine
// (backend_real.go). Nodes are named by id, 1..N. Every method runs on the
// test's goroutine; a backend calls a client's events there too (from
// runFor and until), so the commands need no locks.
//
// A fault the backend cannot make (a held disk, a crash that loses the page
// cache, on real processes) is a *skippedError: the command prints it, and
// a scenario that needs it says `# backends: sim` at its top (scenario.go).
type backend interface {
	// kind is "sim" or "real".
	kind() string
	// now is the time since the world began (virtual in the simulator).
	now() time.Duration
	runFor(d time.Duration) error
	// until runs until cond holds, at most limit.
	until(limit time.Duration, cond func() bool) error

	// addNode starts a node alone (id 1), addCluster nodes 1..N; each
	// returns once every node serves.
	addNode(spec nodeSpec) error
	addCluster(spec clusterSpec) error
	nodeIDs() []int
	up(id int) bool
	// crash kills node id, keeping keepPct percent of its unsynced writes;
	// held reports whether its disk was held, lost how many commits that
	// lost.
	crash(id, keepPct int) (held bool, lost int, err error)
	restart(id int) error
	stop(id int) error
	holdDisk(id int) error
	releaseDisk(id int) (int, error)
	// call runs one API request on node id (the HTTP routes' core in the
	// simulator, the HTTP route on a real node) and returns the core's
	// reply type.
	call(id int, req node.Request) (any, error)
	// leaderOf is the up node that leads slot (0: none).
	leaderOf(slot int) (int, error)
	isolate(id int) error
	heal() error
	slotDigests(id int) ([]node.SlotDigest, error)

	newClient(spec clientSpec, ev clientEvents) conn
}

// nodeSpec is the node command's configuration.
type nodeSpec struct {
	slots                     int
	tokenAuth                 bool
	idleTimeout, resendPeriod time.Duration
}

// clusterSpec is the cluster command's.
type clusterSpec struct{ size, slots, replicas int }

// clientSpec says who a client is and which node it dials.
type clientSpec struct {
	name, uid, device string
	flag              proto.DeviceFlag
	version           uint8
	node              int
}

// clientEvents are what a client reports, called on the test's goroutine.
type clientEvents struct {
	connack    func(*proto.Connack)
	sendack    func(clientMsgNo string, a *proto.Sendack)
	recv       func(r *proto.Recv, plaintext []byte)
	disconnect func(*proto.Disconnect)
	// closed: the connection closed; err nil when the client closed it.
	closed func(err error)
}

// conn is one named client, connected or not.
type conn interface {
	// connect dials (again) and sends the CONNECT; autoAck answers every
	// RECV with a RECVACK.
	connect(token string, autoAck bool)
	close()
	writeRaw(b []byte)
	send(to string, typ proto.ChannelType, clientMsgNo string, payload []byte, flags proto.Flags)
	inflight() int
	ready() bool
}

// skippedError is a fault or a read the backend cannot make.
type skippedError struct{ backend, what string }

func (e *skippedError) Error() string { return "skipped on " + e.backend + ": " + e.what }
