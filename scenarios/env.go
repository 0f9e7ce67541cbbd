package scenarios

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
	"github.com/jindou-im/jindou/node/proto"
)

// Env is one scenario's world: a backend (the simulator or real
// processes), named clients, and what they observed since the last
// command's output.
type Env struct {
	b backend
	// n is the node the commands address by default (1), 0 until the
	// node or cluster command; slots is the node's slot count.
	n, slots int
	clients  map[string]*client
	out      strings.Builder
}

// client is a named WKProto connection of a user.
type client struct {
	name string
	c    conn
	// dialEnded: the current connection attempt closed; connacked: it had
	// its CONNACK.
	dialEnded, connacked bool
}

// NewEnv makes an empty simulated world whose randomness derives from
// seed; a command waits at most 10s of virtual time for what it waits for.
func NewEnv(t testing.TB, seed uint64) *Env { return newEnv(newSimBackend(t, seed)) }

func newEnv(b backend) *Env { return &Env{b: b, clients: map[string]*client{}} }

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

// observe prints what happens to a client, stamped with the world's time.
func (e *Env) observe(name, format string, args ...any) {
	e.printf("%s %s: %s", fmtTime(e.b.now()), name, fmt.Sprintf(format, args...))
}

func fmtTime(d time.Duration) string { return fmt.Sprintf("%.3fs", d.Seconds()) }

// runFor runs the world for d.
func (e *Env) runFor(d time.Duration) error { return e.b.runFor(d) }

// until runs the world until cond holds, for at most limit.
func (e *Env) until(limit time.Duration, cond func() bool) error { return e.b.until(limit, cond) }

// events wires a client's events to the output.
func (e *Env) events(cl *client) clientEvents {
	name := cl.name
	return clientEvents{
		connack: func(p *proto.Connack) { cl.connacked = true; e.observe(name, "CONNACK %s", reason(p.ReasonCode)) },
		sendack: func(msgNo string, a *proto.Sendack) {
			e.observe(name, "SENDACK %s seq=%d %s", msgNo, a.MessageSeq, reason(a.ReasonCode))
		},
		recv: func(r *proto.Recv, plain []byte) {
			dup := ""
			if r.Flags&proto.FlagDup != 0 {
				dup = " (resent)"
			}
			e.observe(name, "RECV %s from=%s channel=%s/%d seq=%d %q%s", r.ClientMsgNo, r.FromUID, r.ChannelID, r.ChannelType, r.MessageSeq, plain, dup)
		},
		disconnect: func(d *proto.Disconnect) { e.observe(name, "DISCONNECT %s %q", reason(d.ReasonCode), d.Reason) },
		closed: func(err error) {
			cl.dialEnded = true
			if err == nil {
				e.observe(name, "closed")
			} else {
				e.observe(name, "closed: %v", err)
			}
		},
	}
}

func (e *Env) newClient(spec clientSpec) *client {
	cl := &client{name: spec.name}
	cl.c = e.b.newClient(spec, e.events(cl))
	e.clients[spec.name] = cl
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
