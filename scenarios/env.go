package scenarios

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/runtime"
	"github.com/jindou-im/jindou/sim/world"
)

// Env is one scenario's world: a simulated node, named clients, and what
// they observed since the last command's output.
type Env struct {
	w *world.World
	// n is the node, nil until the node command.
	n       *world.Node
	clients map[string]*client
	out     strings.Builder
}

// client is a named WKProto connection of a user.
type client struct {
	name string
	c    *world.Client
	// dialEnded: the current connection attempt closed.
	dialEnded bool
}

// NewEnv makes an empty world whose randomness derives from seed; a
// command waits at most 10s of virtual time for what it waits for.
func NewEnv(t testing.TB, seed uint64) *Env {
	return &Env{w: world.New(t, seed, world.WithPatience(10*time.Second)), clients: map[string]*client{}}
}

// Handle runs one command of a scenario and returns its output.
func (e *Env) Handle(t testing.TB, td *datadriven.TestData) string {
	e.out.Reset()
	handlers := map[string]func(testing.TB, *datadriven.TestData) error{
		"node": e.cmdNode, "crash": e.cmdCrash, "restart": e.cmdRestart, "stop": e.cmdStop,
		"hold-disk": e.cmdHoldDisk, "release-disk": e.cmdReleaseDisk,
		"connect": e.cmdConnect, "disconnect": e.cmdDisconnect, "send": e.cmdSend, "raw": e.cmdRaw,
		"run": e.cmdRun, "api": e.cmdAPI,
		"cluster": e.cmdCluster, "leader": e.cmdLeader, "partition": e.cmdPartition, "heal": e.cmdHeal,
		"replicas": e.cmdReplicas,
	}
	h, ok := handlers[td.Cmd]
	if !ok {
		t.Fatalf("%s: unknown command %q", td.Pos, td.Cmd)
	}
	if err := h(t, td); err != nil {
		e.printf("error: %v", err)
	}
	return e.out.String()
}

func (e *Env) printf(format string, args ...any) {
	fmt.Fprintf(&e.out, format+"\n", args...)
}

// observe prints what happens to a client, stamped with virtual time.
func (e *Env) observe(name, format string, args ...any) {
	e.printf("%s %s: %s", fmtTime(e.w.Now()), name, fmt.Sprintf(format, args...))
}

func fmtTime(d time.Duration) string { return fmt.Sprintf("%.3fs", d.Seconds()) }

// runFor runs the world for d of virtual time.
func (e *Env) runFor(d time.Duration) error { return e.w.Sim.RunFor(d) }

// until runs the world until cond holds, for at most limit.
func (e *Env) until(limit time.Duration, cond func() bool) error {
	return e.w.Await(limit, time.Millisecond, cond)
}

// up reports whether the node exists and runs.
func (e *Env) up() bool { return e.n != nil && e.n.Up() }

// attach wires a client's callbacks to the output.
func (e *Env) attach(cl *client) {
	c, name := cl.c, cl.name
	c.OnConnack = func(p *proto.Connack) { e.observe(name, "CONNACK %s", reason(p.ReasonCode)) }
	c.OnSendack = func(s *world.Sent, a *proto.Sendack) {
		e.observe(name, "SENDACK %s seq=%d %s", s.ClientMsgNo, a.MessageSeq, reason(a.ReasonCode))
	}
	c.OnRecv = func(r *proto.Recv, plain []byte) {
		dup := ""
		if r.Flags&proto.FlagDup != 0 {
			dup = " (resent)"
		}
		e.observe(name, "RECV %s from=%s channel=%s/%d seq=%d %q%s", r.ClientMsgNo, r.FromUID, r.ChannelID, r.ChannelType, r.MessageSeq, plain, dup)
	}
	c.OnDisconnect = func(d *proto.Disconnect) { e.observe(name, "DISCONNECT %s %q", reason(d.ReasonCode), d.Reason) }
	c.OnClosed = func(err error) {
		cl.dialEnded = true
		if err == nil {
			e.observe(name, "closed")
		} else {
			e.observe(name, "closed: %v", err)
		}
	}
}

func (e *Env) newClient(name, uid, device string, flag proto.DeviceFlag, version uint8, at runtime.NodeID) *client {
	c := e.w.NewClient(world.ClientSpec{Name: name, UID: uid, Device: device, Flag: flag, Version: version, Node: at})
	cl := &client{name: name, c: c}
	e.attach(cl)
	e.clients[name] = cl
	return cl
}

func (e *Env) client(t testing.TB, td *datadriven.TestData) *client {
	if len(td.CmdArgs) == 0 {
		t.Fatalf("%s: %s needs a client name", td.Pos, td.Cmd)
	}
	cl := e.clients[td.CmdArgs[0].Key]
	if cl == nil {
		t.Fatalf("%s: no client %q", td.Pos, td.CmdArgs[0].Key)
	}
	return cl
}

// arg returns the value of key, or def.
func arg(td *datadriven.TestData, key, def string) string {
	for _, a := range td.CmdArgs {
		if a.Key == key && len(a.Vals) > 0 {
			return a.Vals[0]
		}
	}
	return def
}

// list returns the values of key (key=(a,b,c)).
func list(td *datadriven.TestData, key string) []string {
	for _, a := range td.CmdArgs {
		if a.Key == key {
			return slices.Clone(a.Vals)
		}
	}
	return nil
}

func hasArg(td *datadriven.TestData, key string) bool {
	return slices.ContainsFunc(td.CmdArgs, func(a datadriven.CmdArg) bool { return a.Key == key })
}

var reasonNames = map[proto.ReasonCode]string{
	proto.ReasonSuccess: "success", proto.ReasonAuthFail: "auth-fail", proto.ReasonSubscriberNotExist: "not-subscriber",
	proto.ReasonInBlacklist: "in-blacklist", proto.ReasonChannelNotExist: "no-channel", proto.ReasonPayloadDecodeError: "payload-decode-error",
	proto.ReasonConnectKick: "kicked", proto.ReasonNotInWhitelist: "not-in-whitelist", proto.ReasonSystemError: "system-error",
	proto.ReasonBan: "ban", proto.ReasonClientKeyIsEmpty: "client-key-empty", proto.ReasonNotSupportChannelType: "unsupported-channel-type",
	proto.ReasonDisband: "disband", proto.ReasonSendBan: "send-ban", proto.ReasonUnknown: "unknown",
}

func reason(r proto.ReasonCode) string {
	if n, ok := reasonNames[r]; ok {
		return n
	}
	return fmt.Sprintf("reason-%d", r)
}
