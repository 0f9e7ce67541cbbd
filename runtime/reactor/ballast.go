package reactor

import (
	"errors"
	"log/slog"
	"sync"
	"syscall"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// The ballast. The reserve check (disk.go) refuses commits once the disk
// is under its reserve, but a disk can also fill at once, by another
// process, between two checks: then a write Pebble makes without a commit
// (the apply of entries committed before, which goes to its WAL) would get
// ENOSPC, and Pebble stops the process on a failed WAL write. So the data
// dir keeps a ballast file of room (half the reserve) that the host gives
// back the moment any write of the store gets ENOSPC: the write is made
// again in the room released, and the disk counts as full (commits refused)
// until there is room for the ballast again besides the reserve, when it is
// made anew.

// ballastName is the ballast's file in the data dir.
const ballastName = "jindou.ballast"

// ballast is the data dir's room in reserve.
type ballast struct {
	fs   vfs.FS // under the ballast's own wrapping
	size int64
	log  *slog.Logger

	mu   sync.Mutex
	held bool // guarded by mu
}

// newBallast keeps size bytes of room in fs (size 0: none).
func newBallast(fs vfs.FS, size int64, log *slog.Logger) *ballast {
	return &ballast{fs: fs, size: size, log: log}
}

// ensure makes the ballast if it is not there whole.
func (b *ballast) ensure() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.size <= 0 || b.held {
		return nil
	}
	if fi, err := b.fs.Stat(ballastName); err == nil && fi.Size() == b.size {
		b.held = true
		return nil
	}
	if err := b.make(); err != nil {
		_ = b.fs.Remove(ballastName)
		return err
	}
	b.held = true
	return nil
}

func (b *ballast) make() error {
	f, err := b.fs.Create(ballastName, vfs.WriteCategoryUnspecified)
	if err != nil {
		return err
	}
	zeros := make([]byte, 1<<20)
	for left := b.size; left > 0; left -= int64(len(zeros)) {
		if _, err := f.Write(zeros[:min(left, int64(len(zeros)))]); err != nil {
			_ = f.Close()
			return err
		}
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// release gives the ballast's room back, and reports whether there was any.
func (b *ballast) release() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.held {
		return false
	}
	b.held = false
	err := b.fs.Remove(ballastName)
	b.log.Warn("disk full: released the ballast file for the writes in flight; writes are refused until space returns",
		"ballast", mib(b.size), "err", err)
	return err == nil
}

// restore makes the ballast again once avail has room for it besides
// reserve, and reports whether the ballast is held (always, with none).
func (b *ballast) restore(avail uint64, reserve int64) bool {
	b.mu.Lock()
	held := b.held || b.size <= 0
	b.mu.Unlock()
	if held {
		return true
	}
	if avail < uint64(reserve+b.size) {
		return false
	}
	if err := b.ensure(); err != nil {
		return false
	}
	b.log.Info("disk has room again: ballast file made anew", "ballast", mib(b.size))
	return true
}

// ballastFS gives every file it opens for writing the ballast's help.
type ballastFS struct {
	vfs.FS
	b *ballast
}

func (fs ballastFS) Create(name string, cat vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.Create(name, cat)
	if noSpace(err) && fs.b.release() {
		f, err = fs.FS.Create(name, cat)
	}
	return fs.wrap(f, err)
}

func (fs ballastFS) OpenReadWrite(name string, cat vfs.DiskWriteCategory, opts ...vfs.OpenOption) (vfs.File, error) {
	return fs.wrap(fs.FS.OpenReadWrite(name, cat, opts...))
}

func (fs ballastFS) ReuseForWrite(oldname, newname string, cat vfs.DiskWriteCategory) (vfs.File, error) {
	return fs.wrap(fs.FS.ReuseForWrite(oldname, newname, cat))
}

func (fs ballastFS) wrap(f vfs.File, err error) (vfs.File, error) {
	if err != nil {
		return nil, err
	}
	return ballastFile{File: f, b: fs.b}, nil
}

// Unwrap is nil: the ballast must not be unwrapped away.
func (fs ballastFS) Unwrap() vfs.FS { return nil }

// ballastFile makes a write that got ENOSPC again once the ballast is
// released. (A failed fsync is not retried: its pages may be gone.)
type ballastFile struct {
	vfs.File
	b *ballast
}

func (f ballastFile) Write(p []byte) (int, error) {
	n, err := f.File.Write(p)
	if noSpace(err) && f.b.release() {
		m, err := f.File.Write(p[n:])
		return n + m, err
	}
	return n, err
}

func (f ballastFile) WriteAt(p []byte, off int64) (int, error) {
	n, err := f.File.WriteAt(p, off)
	if noSpace(err) && f.b.release() {
		m, err := f.File.WriteAt(p[n:], off+int64(n))
		return n + m, err
	}
	return n, err
}

func (f ballastFile) Preallocate(offset, length int64) error {
	err := f.File.Preallocate(offset, length)
	if noSpace(err) && f.b.release() {
		err = f.File.Preallocate(offset, length)
	}
	return err
}

func noSpace(err error) bool { return err != nil && errors.Is(err, syscall.ENOSPC) }
