package reactor

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/jindou-im/jindou/runtime"
)

// noRoomFS is a file system that fills at once: while full is set, writes
// to the files it opened fail with ENOSPC, and removing the ballast gives
// its room back (clears full).
type noRoomFS struct {
	spaceFS
	full *atomic.Bool
}

func (fs noRoomFS) Create(name string, cat vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.spaceFS.Create(name, cat)
	if err != nil {
		return nil, err
	}
	return noRoomFile{File: f, full: fs.full}, nil
}

func (fs noRoomFS) Remove(name string) error {
	if strings.HasSuffix(name, ballastName) {
		fs.full.Store(false)
	}
	return fs.spaceFS.Remove(name)
}

type noRoomFile struct {
	vfs.File
	full *atomic.Bool
}

func (f noRoomFile) Write(p []byte) (int, error) {
	if f.full.Load() {
		return 0, &os.PathError{Op: "write", Path: "f", Err: syscall.ENOSPC}
	}
	return f.File.Write(p)
}

// A write of the store that gets ENOSPC because the disk filled at once is
// made again in the ballast's room, instead of failing (Pebble would stop
// the process on it); commits are refused from then on, until there is
// room for the ballast again besides the reserve, when it is made anew.
// One line is logged at each change.
func TestADiskFullAtOnceReleasesTheBallastAndTheWriteSucceeds(t *testing.T) {
	cfg, avail := spaceConfig(t, 10<<20, 4<<20)
	var full atomic.Bool
	inner := cfg.WrapFS
	cfg.WrapFS = func(fs vfs.FS) vfs.FS { return noRoomFS{spaceFS: inner(fs).(spaceFS), full: &full} }
	var logs bytes.Buffer
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	done := make(chan runtime.DiskDone, 1)
	p := &testProc{on: func(_ *testProc, _ int, ev runtime.Event) {
		if d, ok := ev.(runtime.DiskDone); ok {
			done <- d
		}
	}}
	startHost(t, cfg, p)
	fs := p.env.Disk().FS()
	if fi, err := fs.Stat(ballastName); err != nil || fi.Size() != 2<<20 {
		t.Fatalf("the ballast at start: %v, %v; want half the reserve", fi, err)
	}
	f, err := fs.Create("000001.log", vfs.WriteCategoryUnspecified)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	full.Store(true)
	avail.Store(0)
	if n, err := f.Write(make([]byte, 4096)); err != nil || n != 4096 {
		t.Fatalf("a write on a disk that filled at once: %d, %v; want it made in the ballast's room", n, err)
	}
	if _, err := fs.Stat(ballastName); err == nil {
		t.Fatal("the ballast is still there")
	}
	avail.Store(2 << 20) // the ballast's room
	run := func() error { return nil }
	if d := commitOnce(t, p, done, run); !errors.Is(d.Err, runtime.ErrDiskFull) {
		t.Fatalf("a commit after the ballast went: %v, want runtime.ErrDiskFull", d.Err)
	}
	avail.Store(5 << 20) // the reserve, but not the ballast besides
	if d := commitOnce(t, p, done, run); !errors.Is(d.Err, runtime.ErrDiskFull) {
		t.Fatalf("a commit with room for the reserve only: %v, want runtime.ErrDiskFull", d.Err)
	}
	avail.Store(7 << 20)
	if d := commitOnce(t, p, done, run); d.Err != nil {
		t.Fatalf("a commit with room again: %v", d.Err)
	}
	if fi, err := fs.Stat(ballastName); err != nil || fi.Size() != 2<<20 {
		t.Fatalf("the ballast once there is room: %v, %v; want it made anew", fi, err)
	}
	if r, m := strings.Count(logs.String(), "released the ballast"), strings.Count(logs.String(), "ballast file made anew"); r != 1 || m != 1 {
		t.Fatalf("logged %d releases and %d re-makes, want one each:\n%s", r, m, logs.String())
	}
}
