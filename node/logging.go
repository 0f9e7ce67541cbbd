package node

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/jindou-im/jindou/node/proto"
)

// The libraries' log lines reach the runtime's logger (runtime.Env.Log, the
// only way the core logs): their chatter at debug level, their warnings and
// errors as such.

// pebbleLogger is Pebble's logger.
type pebbleLogger struct{ log *slog.Logger }

func (l pebbleLogger) Infof(format string, args ...any) {
	l.log.Debug("pebble: " + fmt.Sprintf(format, args...))
}

func (l pebbleLogger) Errorf(format string, args ...any) {
	l.log.Error("pebble: " + fmt.Sprintf(format, args...))
}

func (l pebbleLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	l.log.Error("pebble: fatal: " + msg)
	panic("pebble: " + msg)
}

// raftLogger is etcd raft's logger.
type raftLogger struct{ log *slog.Logger }

func (l raftLogger) Debug(v ...any)                 { l.log.Debug(fmt.Sprint(v...)) }
func (l raftLogger) Debugf(format string, v ...any) { l.log.Debug(fmt.Sprintf(format, v...)) }
func (l raftLogger) Info(v ...any)                  { l.log.Debug(fmt.Sprint(v...)) }
func (l raftLogger) Infof(format string, v ...any)  { l.log.Debug(fmt.Sprintf(format, v...)) }
func (l raftLogger) Warning(v ...any)               { l.log.Warn(fmt.Sprint(v...)) }
func (l raftLogger) Warningf(format string, v ...any) {
	l.log.Warn(fmt.Sprintf(format, v...))
}
func (l raftLogger) Error(v ...any)                 { l.log.Error(fmt.Sprint(v...)) }
func (l raftLogger) Errorf(format string, v ...any) { l.log.Error(fmt.Sprintf(format, v...)) }
func (l raftLogger) Fatal(v ...any)                 { l.Panic(v...) }
func (l raftLogger) Fatalf(format string, v ...any) { l.Panicf(format, v...) }
func (l raftLogger) Panic(v ...any) {
	msg := fmt.Sprint(v...)
	l.log.Error(msg)
	panic(msg)
}
func (l raftLogger) Panicf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	l.log.Error(msg)
	panic(msg)
}

// Connection events (a CONNECT refused, a connection closed for a reason)
// are logged at info, at most connLogBurst lines of each kind per
// connLogWindow of the node's clock; the rest are counted, and the count
// rides on the next line of that kind ("suppressed": N, over the window
// that ended). The window runs on the node's clock, so the simulator's
// runs stay deterministic.
const (
	connLogWindow = 10 * time.Second
	connLogBurst  = 5
)

// connLog is a gateway's rate limiter of connection lines, by kind.
type connLog struct{ kinds map[string]*connLogKind }

type connLogKind struct {
	start              time.Duration
	logged, suppressed int
}

// logConn logs a connection event of kind (msg and reason) about c, unless
// the kind's burst of this window is spent.
func (g *gateway) logConn(c *client, msg, reason string) {
	if g.connLog.kinds == nil {
		g.connLog.kinds = map[string]*connLogKind{}
	}
	key := msg + "\x00" + reason
	k := g.connLog.kinds[key]
	now := g.now()
	if k == nil {
		k = &connLogKind{start: now}
		g.connLog.kinds[key] = k
	}
	suppressed := 0
	if now-k.start >= connLogWindow {
		suppressed, k.start, k.logged, k.suppressed = k.suppressed, now, 0, 0
	}
	if k.logged >= connLogBurst {
		k.suppressed++
		return
	}
	k.logged++
	info := c.conn.Info()
	attrs := []any{"reason", reason, "uid", c.uid, "addr", info.RemoteAddr, "listener", info.Listener,
		"open_for", durationText(now - c.openedAt)}
	if suppressed > 0 {
		attrs = append(attrs, "suppressed", suppressed, "suppressed_over", durationText(connLogWindow))
	}
	g.n.env.Log().Info(msg, attrs...)
}

// reasonNames name the reasons a CONNECT is refused or a connection
// kicked with.
var reasonNames = map[proto.ReasonCode]string{
	proto.ReasonAuthFail:                "auth fail",
	proto.ReasonClientKeyIsEmpty:        "client key is empty",
	proto.ReasonProtocolUpgradeRequired: "protocol upgrade required",
	proto.ReasonConnectKick:             "kicked",
}

// reasonText is "2 (auth fail)".
func reasonText(r proto.ReasonCode) string {
	name, ok := reasonNames[r]
	if !ok {
		name = "reason code"
	}
	return fmt.Sprintf("%d (%s)", r, name)
}

// durationText is d as slog's text handler would write it, in JSON too
// ("1.5s", not 1500000000).
func durationText(d time.Duration) string { return d.Round(time.Millisecond).String() }
