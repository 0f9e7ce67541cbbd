package toy

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/jindou-im/jindou/runtime"
)

// LogName is the counter's log file on the process's disk.
const LogName = "counter.log"

// GossipInterval is how often a node tells its peers its total.
const GossipInterval = 10 * time.Millisecond

// Counter is the toy process.
type Counter struct {
	env   runtime.Env
	loop  runtime.Loop
	peers []runtime.NodeID
	log   vfs.File
	// total is the sum of every record in the log, synced or not.
	total int64
	// durable is the sum of the records whose sync has completed; only
	// durable totals are ever reported to clients.
	durable int64
	// PeerTotals is the last total each peer gossiped.
	PeerTotals map[runtime.NodeID]int64
	// Recovered is the total read back from disk at Start.
	Recovered int64
	// readBuf holds a connection's bytes up to the next newline.
	readBuf map[uint64][]byte
}

// New makes a counter that gossips to peers.
func New(peers []runtime.NodeID) *Counter {
	return &Counter{peers: peers, PeerTotals: map[runtime.NodeID]int64{}, readBuf: map[uint64][]byte{}}
}

// Start recovers the total from the log and arms the gossip timer.
func (c *Counter) Start(env runtime.Env) error {
	c.env = env
	fs := env.Disk().FS()
	total, valid, err := recoverLog(fs)
	if err != nil {
		return fmt.Errorf("toy: recover: %w", err)
	}
	c.total, c.durable, c.Recovered = total, total, total
	// Rewrite the valid prefix, dropping a torn tail, so that new records
	// follow the last good one.
	f, err := fs.Create(LogName, vfs.WriteCategoryUnspecified)
	if err != nil {
		return err
	}
	if _, err := f.Write(valid); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := syncDir(fs); err != nil {
		return err
	}
	c.log = f
	c.loop = env.NewLoop("main", c)
	c.loop.After(GossipInterval, "gossip")
	return nil
}

// record is one line of the log: "add <n> <crc32 of 'add <n>'>\n".
func record(n int64) []byte {
	body := "add " + strconv.FormatInt(n, 10)
	return fmt.Appendf(nil, "%s %08x\n", body, crc32.ChecksumIEEE([]byte(body)))
}

// recoverLog sums the log's records up to the first torn or corrupt one and
// returns the valid prefix.
func recoverLog(fs vfs.FS) (total int64, valid []byte, err error) {
	f, err := fs.Open(LogName)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil, nil
	}
	if err != nil {
		return 0, nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return 0, nil, err
	}
	rest := data
	for {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			break
		}
		n, ok := parseRecord(string(rest[:i]))
		if !ok {
			break
		}
		total += n
		rest = rest[i+1:]
	}
	return total, data[:len(data)-len(rest)], nil
}

func syncDir(fs vfs.FS) error {
	d, err := fs.OpenDir("")
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func parseRecord(line string) (int64, bool) {
	body, sum, ok := strings.Cut(line, " ")
	if !ok || body != "add" {
		return 0, false
	}
	num, crc, ok := strings.Cut(sum, " ")
	if !ok {
		return 0, false
	}
	if fmt.Sprintf("%08x", crc32.ChecksumIEEE([]byte("add "+num))) != crc {
		return 0, false
	}
	n, err := strconv.ParseInt(num, 10, 64)
	return n, err == nil
}

// Durable is the total of the additions whose sync completed.
func (c *Counter) Durable() int64 { return c.durable }

// Accept puts every connection on the one loop.
func (c *Counter) Accept(runtime.ConnInfo) runtime.Loop { return c.loop }

// Stop syncs and closes the log.
func (c *Counter) Stop() {
	_ = c.log.Sync()
	_ = c.log.Close()
}

// Kill closes the log without syncing.
func (c *Counter) Kill() { _ = c.log.Close() }

// commitTag is the tag of an addition's sync: who asked, and what to answer.
type commitTag struct {
	conn runtime.Conn
	n    int64
}

// Handle runs one event.
func (c *Counter) Handle(ev runtime.Event) {
	switch e := ev.(type) {
	case runtime.TimerFired:
		c.gossip()
		c.loop.After(GossipInterval, "gossip")
	case runtime.PeerMsg:
		n, err := strconv.ParseInt(string(e.Data), 10, 64)
		if err == nil {
			c.PeerTotals[e.From] = n
		}
	case runtime.ConnOpened:
	case runtime.ConnData:
		c.onData(e.Conn, e.Data)
	case runtime.ConnClosed:
		delete(c.readBuf, e.Conn.ID())
	case runtime.DiskDone:
		t := e.Tag.(commitTag)
		if e.Err != nil {
			t.conn.Write([]byte("err " + e.Err.Error() + "\n"))
			return
		}
		c.durable += t.n
		t.conn.Write(fmt.Appendf(nil, "ok %d\n", c.durable))
	}
}

func (c *Counter) gossip() {
	msg := strconv.FormatInt(c.durable, 10)
	for _, p := range c.peers {
		if p != c.env.Node() {
			c.env.Transport().Send(p, "main", []byte(msg))
		}
	}
}

func (c *Counter) onData(conn runtime.Conn, data []byte) {
	buf := append(c.readBuf[conn.ID()], data...)
	for {
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			break
		}
		c.onLine(conn, string(buf[:i]))
		buf = buf[i+1:]
	}
	c.readBuf[conn.ID()] = slices.Clone(buf)
}

func (c *Counter) onLine(conn runtime.Conn, line string) {
	switch {
	case line == "time":
		clk := c.env.Clock()
		conn.Write(fmt.Appendf(nil, "time %d %d\n", clk.Now(), clk.Wall().UnixNano()))
	case strings.HasPrefix(line, "add "):
		n, err := strconv.ParseInt(line[4:], 10, 64)
		if err != nil {
			conn.Write([]byte("err bad number\n"))
			return
		}
		c.add(conn, n)
	default:
		conn.Write([]byte("err unknown command\n"))
		conn.Close()
	}
}

// add appends the record now (unsynced) and answers once a commit that syncs
// it has completed.
func (c *Counter) add(conn runtime.Conn, n int64) {
	if _, err := c.log.Write(record(n)); err != nil {
		conn.Write([]byte("err " + err.Error() + "\n"))
		return
	}
	c.total += n
	log := c.log
	c.env.Disk().Commit(c.loop, log.Sync, commitTag{conn: conn, n: n})
}

// Lines splits a byte stream into lines; test support for clients.
type Lines struct{ buf []byte }

// Feed appends data and returns the complete lines it now holds.
func (l *Lines) Feed(data []byte) []string {
	l.buf = append(l.buf, data...)
	var out []string
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			return out
		}
		out = append(out, string(l.buf[:i]))
		l.buf = l.buf[i+1:]
	}
}
