package reactor

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/jindou-im/jindou/runtime"
)

// disk is the runtime.Disk of a host.
type disk struct{ h *Host }

func (d disk) FS() vfs.FS { return d.h.fs }

func (d disk) Commit(from runtime.Loop, fn func() error, tag any) {
	l, ok := from.(*loop)
	if !ok || l.h != d.h {
		panic("reactor: Commit from a loop of another host")
	}
	d.h.disk.submit(commit{l: l, fn: fn, tag: tag})
}

// commit is one queued Disk.Commit.
type commit struct {
	l   *loop
	fn  func() error
	tag any
}

// diskWriter runs commits off the loops and completes them in submission
// order. Whatever has been queued while it worked is taken at once and run
// together (a group commit: see run). The
// queue is unbounded, as a loop's (see queues.go): its length, high-water
// mark and largest batch are in Host.QueueStats.
type diskWriter struct {
	h *Host
	// queued counts the commits submitted and not yet started; it is the
	// host's (h.queues.disk), incremented under mu.
	queued *queueGauge

	mu sync.Mutex
	// idle is signalled when queue is empty and nothing runs.
	idle *sync.Cond
	// queue, busy (a batch is running), discarding (Kill: drop
	// everything) and stopped are guarded by mu.
	queue      []commit
	busy       bool
	discarding bool
	stopped    bool

	wake       chan struct{}
	stop, done chan struct{}
}

func startDiskWriter(h *Host) *diskWriter {
	w := &diskWriter{h: h, queued: &h.queues.disk, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	w.idle = sync.NewCond(&w.mu)
	go w.serve()
	return w
}

func (w *diskWriter) submit(c commit) {
	w.mu.Lock()
	if w.discarding || w.stopped {
		w.mu.Unlock()
		return
	}
	w.queue = append(w.queue, c)
	w.queued.addLocked(1)
	first := len(w.queue) == 1
	w.mu.Unlock()
	if first {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

func (w *diskWriter) serve() {
	defer close(w.done)
	for {
		select {
		case <-w.stop:
			return
		case <-w.wake:
		}
		for {
			w.mu.Lock()
			batch := w.queue
			w.queue = nil
			if len(batch) == 0 || w.discarding {
				w.queued.taken(int64(len(batch)))
				w.busy = false
				w.idle.Broadcast()
				w.mu.Unlock()
				break
			}
			w.busy = true
			w.mu.Unlock()
			if n := int64(len(batch)); n > w.h.queues.diskMaxBatch.Load() {
				w.h.queues.diskMaxBatch.Store(n) // this goroutine is its only writer
			}
			w.run(batch)
		}
	}
}

func (w *diskWriter) run(batch []commit) {
	if w.h.dead.Load() {
		w.queued.taken(int64(len(batch))) // dropped
		return
	}
	w.queued.taken(int64(len(batch)))
	errs := make([]error, len(batch))
	start := time.Now()
	if err := w.room(); err != nil {
		for i := range errs {
			errs[i] = err
		}
	} else if len(batch) == 1 {
		errs[0] = batch[0].fn()
	} else {
		// The commits run at once, so that Pebble's commit pipeline makes
		// one WAL sync of all that reach it together (the slot loops' group
		// commits become one fsync for the node) rather than one each, back
		// to back. They write disjoint keys; completions still go out in
		// submission order.
		var wg sync.WaitGroup
		for i, c := range batch {
			wg.Go(func() { errs[i] = c.fn() })
		}
		wg.Wait()
	}
	w.h.queues.diskCommit.observe(time.Since(start)) // disk_latency.go
	for i, c := range batch {
		w.h.stats.diskCommits.Add(1)
		c.l.post(item{ev: runtime.DiskDone{Tag: c.tag, Err: spaceError(errs[i])}})
	}
}

// A full disk. Pebble cannot survive a write of its own that fails (a WAL
// write or sync that fails stops its commit pipeline for good, and the
// process with it), so the disk writer refuses a batch before it runs once
// the data dir's file system has less than Config.DiskReserve free: the
// commits complete with a DiskFullError (runtime.ErrDiskFull) having written
// nothing, the core refuses new writes and retries the refused commits with
// a backoff, and the first retry after space returns runs. The reserve is
// the room for what is still written meanwhile without a commit: the
// applies of entries committed before, and Pebble's flushes. One statfs per
// batch (a few microseconds) is the cost.

// DiskFullError is a commit refused, or a start refused, for want of room:
// Avail bytes free, under Reserve. It wraps runtime.ErrDiskFull.
type DiskFullError struct {
	Avail   uint64
	Reserve int64
}

func (e *DiskFullError) Error() string {
	return fmt.Sprintf("reactor: disk full: %s free, under the reserve of %s", mib(int64(e.Avail)), mib(e.Reserve))
}

func (e *DiskFullError) Unwrap() error { return runtime.ErrDiskFull }

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// room is nil if the disk has room for a batch: its reserve free, and its
// ballast held (made anew first if it was released and there is room).
func (w *diskWriter) room() error {
	reserve := w.h.cfg.DiskReserve
	if reserve < 0 {
		return nil
	}
	u, err := w.h.fs.GetDiskUsage("")
	if err != nil {
		return nil // cannot tell: the write will say
	}
	if !w.h.ballast.restore(u.AvailBytes, reserve) || u.AvailBytes < uint64(reserve) {
		return &DiskFullError{Avail: u.AvailBytes, Reserve: reserve}
	}
	return nil
}

// keepRoom sets up the host's file system for a full disk: the ballast
// (half the reserve) is made if missing, files are opened through it, and
// a start on a disk without its reserve is refused (checkDiskRoom).
func (h *Host) keepRoom() error {
	size := int64(0)
	if h.cfg.DiskReserve > 0 {
		size = h.cfg.DiskReserve / 2
	}
	h.ballast = newBallast(h.fs, size, h.log)
	if err := h.ballast.ensure(); err != nil {
		if !noSpace(err) {
			return fmt.Errorf("reactor: ballast file: %w", err)
		}
		u, _ := h.fs.GetDiskUsage("")
		return startRefusal(h.cfg.DataDir, &DiskFullError{Avail: u.AvailBytes, Reserve: h.cfg.DiskReserve + size})
	}
	h.fs = ballastFS{FS: h.fs, b: h.ballast}
	return checkDiskRoom(h.fs, h.cfg.DataDir, h.cfg.DiskReserve)
}

// hasRoom is nil if fs has at least reserve bytes free (or cannot tell:
// then the write itself will say).
func hasRoom(fs vfs.FS, reserve int64) error {
	if reserve < 0 {
		return nil
	}
	u, err := fs.GetDiskUsage("")
	if err != nil || u.AvailBytes >= uint64(reserve) {
		return nil
	}
	return &DiskFullError{Avail: u.AvailBytes, Reserve: reserve}
}

// spaceError marks a commit's ENOSPC as runtime.ErrDiskFull, so the core
// treats it as a full disk and not as a failing one.
func spaceError(err error) error {
	if err != nil && !errors.Is(err, runtime.ErrDiskFull) && errors.Is(err, syscall.ENOSPC) {
		return fmt.Errorf("%w: %w", runtime.ErrDiskFull, err)
	}
	return err
}

// checkDiskRoom refuses a start on a disk without its reserve free. The
// node exits with this message rather than start read-only: opening the
// stores writes (a new WAL, a manifest), recovering a slot applies what was
// committed and not yet applied, and a slot serves reads only once its
// leader has committed an entry of its term, so a node that cannot write
// would come up half — listening, but answering neither CONNECT nor reads.
// An operator (or a supervisor's restart) frees space and starts it again.
func checkDiskRoom(fs vfs.FS, dir string, reserve int64) error {
	if err := hasRoom(fs, reserve); err != nil {
		return startRefusal(dir, err)
	}
	return nil
}

func startRefusal(dir string, err error) error {
	return fmt.Errorf("reactor: will not start on data dir %s: %w; free some space (or lower the reserve) and start again", dir, err)
}

// drain waits until every queued commit has run.
func (w *diskWriter) drain() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for (len(w.queue) > 0 || w.busy) && !w.stopped {
		w.idle.Wait()
	}
}

// discard drops the queued commits (the fn running now completes).
func (w *diskWriter) discard() {
	w.mu.Lock()
	w.discarding = true
	w.queued.taken(int64(len(w.queue)))
	w.queue = nil
	w.mu.Unlock()
}

// close stops the goroutine after the commit it runs, if any.
func (w *diskWriter) close() {
	w.mu.Lock()
	if w.stopped {
		w.mu.Unlock()
		return
	}
	w.stopped = true
	w.queued.taken(int64(len(w.queue)))
	w.queue = nil
	w.idle.Broadcast()
	w.mu.Unlock()
	close(w.stop)
	<-w.done
}

// rootFS is the real file system with relative names resolved under root,
// so the process sees its data directory as "" and opens Pebble on a
// relative dirname. Absolute names pass through unchanged.
type rootFS struct {
	vfs.FS
	root string
}

func newRootFS(dir string) (vfs.FS, error) {
	if dir == "" {
		return nil, errors.New("reactor: Config.DataDir is empty")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, err
	}
	return rootFS{FS: vfs.Default, root: abs}, nil
}

func (fs rootFS) path(name string) string {
	if filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(fs.root, name)
}

func (fs rootFS) Create(name string, cat vfs.DiskWriteCategory) (vfs.File, error) {
	return fs.FS.Create(fs.path(name), cat)
}

func (fs rootFS) Link(oldname, newname string) error {
	return fs.FS.Link(fs.path(oldname), fs.path(newname))
}

func (fs rootFS) Open(name string, opts ...vfs.OpenOption) (vfs.File, error) {
	return fs.FS.Open(fs.path(name), opts...)
}

func (fs rootFS) OpenReadWrite(name string, cat vfs.DiskWriteCategory, opts ...vfs.OpenOption) (vfs.File, error) {
	return fs.FS.OpenReadWrite(fs.path(name), cat, opts...)
}

func (fs rootFS) OpenDir(name string) (vfs.File, error) { return fs.FS.OpenDir(fs.path(name)) }
func (fs rootFS) Remove(name string) error              { return fs.FS.Remove(fs.path(name)) }
func (fs rootFS) RemoveAll(name string) error           { return fs.FS.RemoveAll(fs.path(name)) }

func (fs rootFS) Rename(oldname, newname string) error {
	return fs.FS.Rename(fs.path(oldname), fs.path(newname))
}

func (fs rootFS) ReuseForWrite(oldname, newname string, cat vfs.DiskWriteCategory) (vfs.File, error) {
	return fs.FS.ReuseForWrite(fs.path(oldname), fs.path(newname), cat)
}

func (fs rootFS) MkdirAll(dir string, perm os.FileMode) error {
	return fs.FS.MkdirAll(fs.path(dir), perm)
}

func (fs rootFS) Lock(name string) (io.Closer, error)          { return fs.FS.Lock(fs.path(name)) }
func (fs rootFS) List(dir string) ([]string, error)            { return fs.FS.List(fs.path(dir)) }
func (fs rootFS) Stat(name string) (vfs.FileInfo, error)       { return fs.FS.Stat(fs.path(name)) }
func (fs rootFS) GetDiskUsage(p string) (vfs.DiskUsage, error) { return fs.FS.GetDiskUsage(fs.path(p)) }

// Unwrap is nil: the rooting must not be unwrapped away.
func (fs rootFS) Unwrap() vfs.FS { return nil }
