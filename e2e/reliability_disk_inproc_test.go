package e2e

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	jhttp "github.com/jindou-im/jindou/http"
	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/runtime/reactor"
)

// fullFS is a file system whose space can run out: while full is set it
// reports no free space and refuses to create files (ENOSPC). Files
// already open still take writes: that is the room the reserve keeps for
// what is written without a commit.
type fullFS struct {
	vfs.FS
	full *atomic.Bool
}

func (f fullFS) GetDiskUsage(path string) (vfs.DiskUsage, error) {
	u, err := f.FS.GetDiskUsage(path)
	if f.full.Load() {
		u.AvailBytes = 0
	}
	return u, err
}

func (f fullFS) Create(name string, cat vfs.DiskWriteCategory) (vfs.File, error) {
	if f.full.Load() {
		return nil, &os.PathError{Op: "create", Path: name, Err: syscall.ENOSPC}
	}
	return f.FS.Create(name, cat)
}

func (f fullFS) Unwrap() vfs.FS { return nil }

// TestInProcessFullDiskRefusesWritesServesReadsAndRecovers is the
// full-disk test where no file system can be mounted: the node on the
// production runtime over a file system that runs out of space, driven
// through the HTTP API. The same promises: 503 with a JSON body while
// full, reads and a not-ready /readyz meanwhile, writes taken again within
// seconds of space returning, nothing acknowledged lost.
func TestInProcessFullDiskRefusesWritesServesReadsAndRecovers(t *testing.T) {
	var full atomic.Bool
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	host := reactor.New(reactor.Config{NodeID: 1, DataDir: t.TempDir(), Reactors: 1, Logger: quiet, DiskReserve: 1 << 20,
		WrapFS: func(fs vfs.FS) vfs.FS { return fullFS{FS: fs, full: &full} }})
	n := node.New(node.Config{Slots: 8, SlotLoops: 2, RequestTimeout: 3 * time.Second})
	if err := host.Start(n); err != nil {
		t.Fatal(err)
	}
	defer host.Stop()
	srv := jhttp.New(jhttp.Config{Logger: quiet}, n)
	srv.SetComponentsReady(true, "")
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	p := &proc{t: t, HTTP: ts.URL}
	deadline := time.Now().Add(20 * time.Second)
	for code, body := p.readyz(t); code != http.StatusOK; code, body = p.readyz(t) {
		if time.Now().After(deadline) {
			t.Fatalf("not ready: %s", body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	const group = "inproc-disk"
	p.mustPost("/channel", map[string]any{"channel_id": group, "channel_type": 2, "subscribers": []string{"disk-w"}}, nil)
	l := newDiskLedger()
	for range 20 {
		if o := l.send(t, p, group, 5*time.Second); o.status != http.StatusOK {
			t.Fatalf("before the disk filled: %+v", o)
		}
	}

	full.Store(true)
	l.awaitRefusals(t, p, group, 10)
	if code, body := p.readyz(t); code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz on a full disk: %d %s", code, body)
	}
	l.check(t, p, group)

	full.Store(false)
	l.awaitWritable(t, p, group)
	l.check(t, p, group)
	t.Logf("%d sends: %d acknowledged, %d refused", l.n, len(l.acked), len(l.refused))
}
