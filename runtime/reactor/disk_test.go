package reactor

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/jindou-im/jindou/runtime"
)

// TestPebbleOpensRelativeToDataDir: the process's file system resolves
// relative names under Config.DataDir, so Pebble opens on a relative
// dirname and its files land there.
func TestPebbleOpensRelativeToDataDir(t *testing.T) {
	cfg := testConfig(t)
	p := &testProc{on: func(*testProc, int, runtime.Event) {}}
	startHost(t, cfg, p)
	db, err := pebble.Open("db", &pebble.Options{FS: p.env.Disk().FS()})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Set([]byte("k"), []byte("v"), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "db", "LOCK")); err != nil {
		t.Fatalf("pebble's files are not under the data dir: %v", err)
	}
}

// spaceFS reports avail bytes free.
type spaceFS struct {
	vfs.FS
	avail *atomic.Uint64
}

func (f spaceFS) GetDiskUsage(path string) (vfs.DiskUsage, error) {
	u, err := f.FS.GetDiskUsage(path)
	u.AvailBytes = f.avail.Load()
	return u, err
}

// spaceConfig is a test host whose data dir reports avail bytes free (the
// counter returned), with a disk reserve.
func spaceConfig(t *testing.T, avail uint64, reserve int64) (Config, *atomic.Uint64) {
	free := new(atomic.Uint64)
	free.Store(avail)
	cfg := testConfig(t)
	cfg.DiskReserve = reserve
	cfg.WrapFS = func(fs vfs.FS) vfs.FS { return spaceFS{FS: fs, avail: free} }
	return cfg, free
}

// commitOnce commits fn from p's first loop and returns its DiskDone.
func commitOnce(t *testing.T, p *testProc, done <-chan runtime.DiskDone, fn func() error) runtime.DiskDone {
	t.Helper()
	p.env.Disk().Commit(p.loops[0], fn, nil)
	select {
	case d := <-done:
		return d
	case <-time.After(testTimeout):
		t.Fatal("no DiskDone")
		return runtime.DiskDone{}
	}
}

// A commit submitted while the data dir has less than Config.DiskReserve
// free is refused without running, with runtime.ErrDiskFull; once there is
// room again commits run. A commit whose own write says ENOSPC completes
// with runtime.ErrDiskFull too.
func TestCommitsBelowTheDiskReserveAreRefusedWithoutRunning(t *testing.T) {
	cfg, avail := spaceConfig(t, 10<<20, 4<<20)
	done := make(chan runtime.DiskDone, 1)
	p := &testProc{on: func(_ *testProc, _ int, ev runtime.Event) {
		if d, ok := ev.(runtime.DiskDone); ok {
			done <- d
		}
	}}
	startHost(t, cfg, p)
	ran := false
	run := func() error { ran = true; return nil }
	if d := commitOnce(t, p, done, run); d.Err != nil || !ran {
		t.Fatalf("with room: err %v, ran %v", d.Err, ran)
	}
	avail.Store(3 << 20)
	ran = false
	d := commitOnce(t, p, done, run)
	var full *DiskFullError
	if !errors.Is(d.Err, runtime.ErrDiskFull) || !errors.As(d.Err, &full) || ran {
		t.Fatalf("under the reserve: err %v, ran %v; want runtime.ErrDiskFull, not run", d.Err, ran)
	}
	if msg := d.Err.Error(); !strings.Contains(msg, "3.0 MiB free") || !strings.Contains(msg, "reserve of 4.0 MiB") {
		t.Fatalf("the refusal says %q, want the free space and the reserve", msg)
	}
	avail.Store(10 << 20)
	if d := commitOnce(t, p, done, run); d.Err != nil || !ran {
		t.Fatalf("with room again: err %v, ran %v", d.Err, ran)
	}
	enospc := &os.PathError{Op: "write", Path: "000001.log", Err: syscall.ENOSPC}
	if d := commitOnce(t, p, done, func() error { return enospc }); !errors.Is(d.Err, runtime.ErrDiskFull) || !errors.Is(d.Err, syscall.ENOSPC) {
		t.Fatalf("a commit failing with ENOSPC: %v, want runtime.ErrDiskFull wrapping it", d.Err)
	}
	eio := &os.PathError{Op: "fsync", Path: "000001.log", Err: syscall.EIO}
	if d := commitOnce(t, p, done, func() error { return eio }); errors.Is(d.Err, runtime.ErrDiskFull) || !errors.Is(d.Err, syscall.EIO) {
		t.Fatalf("a commit failing with EIO: %v, want EIO and not a full disk", d.Err)
	}
}

// A host does not start on a data dir with less than its reserve free: it
// says so, with what to do, and starts nothing.
func TestHostWillNotStartBelowItsDiskReserve(t *testing.T) {
	cfg, avail := spaceConfig(t, 1<<20, 4<<20)
	p := &testProc{on: func(*testProc, int, runtime.Event) {}}
	h := New(cfg)
	err := h.Start(p)
	if !errors.Is(err, runtime.ErrDiskFull) || !strings.Contains(err.Error(), "will not start") || !strings.Contains(err.Error(), "free some space") {
		t.Fatalf("start on a full disk: %v, want a refusal saying what to do", err)
	}
	if p.env != nil {
		t.Fatal("the process was started on a full disk")
	}
	avail.Store(8 << 20)
	startHost(t, cfg, p)
}
