package scenarios

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
	"github.com/jindou-im/jindou/node/proto"
)

var deviceFlags = map[string]proto.DeviceFlag{"app": proto.DeviceApp, "web": proto.DeviceWeb, "pc": proto.DevicePC}

// connect NAME [uid=UID] [device=ID] [flag=app|web|pc] [version=N] [token=T] [no-ack] [node=N]
//
// Connects a client (uid defaults to NAME) and runs until its CONNACK or
// its close. With no-ack the client never answers RECV with RECVACK.
func (e *Env) cmdConnect(t testing.TB, td *datadriven.TestData) error {
	name := td.CmdArgs[0].Key
	cl := e.clients[name]
	if cl == nil {
		flag, ok := deviceFlags[arg(td, "flag", "app")]
		if !ok {
			return fmt.Errorf("flag: want app, web or pc")
		}
		version, err := strconv.Atoi(arg(td, "version", "6"))
		if err != nil {
			return fmt.Errorf("version: %w", err)
		}
		at, err := e.target(td)
		if err != nil {
			return err
		}
		cl = e.newClient(clientSpec{name: name, uid: arg(td, "uid", name), device: arg(td, "device", name), flag: flag,
			version: uint8(version), node: at})
	}
	cl.dialEnded, cl.connacked = false, false
	cl.c.connect(arg(td, "token", ""), !hasArg(td, "no-ack"))
	if err := e.until(10*time.Second, func() bool { return cl.connacked || cl.dialEnded }); err != nil {
		return err
	}
	return e.runFor(10 * time.Millisecond)
}

// disconnect NAME
//
// Closes the client's connection.
func (e *Env) cmdDisconnect(t testing.TB, td *datadriven.TestData) error {
	e.client(t, td).c.close()
	return e.runFor(100 * time.Millisecond)
}

// raw NAME
// <hex bytes>
//
// Writes bytes as they are on the client's connection, then runs 100ms.
func (e *Env) cmdRaw(t testing.TB, td *datadriven.TestData) error {
	b, err := hex.DecodeString(strings.Join(strings.Fields(td.Input), ""))
	if err != nil {
		return fmt.Errorf("input: %w", err)
	}
	e.client(t, td).c.writeRaw(b)
	return e.runFor(100 * time.Millisecond)
}

// send NAME to=ID [type=person|group] [msgno=M] [no-persist] [no-wait]
// <payload>
//
// Sends the input as an encrypted message, then runs until the SENDACK (at
// most 10s) and 100ms more for deliveries. With no-wait it only runs the
// 100ms: the SENDACK, if any, shows in a later command's output.
func (e *Env) cmdSend(t testing.TB, td *datadriven.TestData) error {
	cl := e.client(t, td)
	if !cl.c.ready() {
		return fmt.Errorf("%s is not connected", cl.name)
	}
	typ := proto.ChannelPerson
	if arg(td, "type", "person") == "group" {
		typ = proto.ChannelGroup
	}
	var flags proto.Flags
	if hasArg(td, "no-persist") {
		flags |= proto.FlagNoPersist
	}
	cl.c.send(arg(td, "to", ""), typ, arg(td, "msgno", ""), []byte(td.Input), flags)
	if hasArg(td, "no-wait") {
		return e.runFor(100 * time.Millisecond)
	}
	if err := e.until(10*time.Second, func() bool { return cl.c.inflight() == 0 }); err != nil {
		return err
	}
	return e.runFor(100 * time.Millisecond)
}

// run [for=DURATION]
//
// Runs the world (default 1s) and prints what happened.
func (e *Env) cmdRun(t testing.TB, td *datadriven.TestData) error {
	d, err := duration(td, "for", "1s")
	if err != nil {
		return err
	}
	return e.runFor(d)
}

func duration(td *datadriven.TestData, key, def string) (time.Duration, error) {
	d, err := time.ParseDuration(arg(td, key, def))
	if err != nil {
		return 0, fmt.Errorf("%s: %w", key, err)
	}
	return d, nil
}
