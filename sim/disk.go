package sim

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/jindou-im/jindou/runtime"
)

// ErrDiskInjected is the error of a disk commit failed by fault injection.
var ErrDiskInjected = errors.New("sim: injected disk commit error")

// ErrNoSpace is the error of a commit that completes while the disk is
// full (FillDisk): it wraps runtime.ErrDiskFull, as the production
// runtime's refusal does.
var ErrNoSpace = fmt.Errorf("sim: no space left on device: %w", runtime.ErrDiskFull)

// DiskConfig sets a process's simulated disk.
type DiskConfig struct {
	// LatencyMin and LatencyMax bound a commit's latency (uniform).
	LatencyMin, LatencyMax time.Duration
	// ErrorPct is the percentage of commits that fail. A failed commit's
	// writes are, by a seeded coin, either applied or not: the caller can
	// not tell which, as on a real disk.
	ErrorPct int
}

// DefaultDiskConfig is an SSD-like fsync latency with no faults.
func DefaultDiskConfig() DiskConfig {
	return DiskConfig{LatencyMin: 200 * time.Microsecond, LatencyMax: 2 * time.Millisecond}
}

// disk is the storage of a process slot. It outlives incarnations.
type disk struct {
	p   *Proc
	fs  *vfs.MemFS
	cfg DiskConfig
	// last is when the latest commit completes; commits complete in
	// submission order, so each completes no earlier than the one before.
	last time.Duration
	rng  *rand.Rand
	// held: commits submitted now wait in queue until ReleaseDisk.
	held  bool
	queue []heldCommit
	// full: the disk has no room (FillDisk until FreeDisk).
	full bool
}

// heldCommit is a commit submitted while the disk was held, with what was
// drawn for it at submission.
type heldCommit struct {
	l                 *loop
	fn                func() error
	tag               any
	latency           time.Duration
	fail, applyAnyway bool
}

func newDisk(p *Proc) disk {
	return disk{p: p, fs: vfs.NewCrashableMem(), cfg: DefaultDiskConfig(), rng: p.s.rng(fmt.Sprintf("disk/%d", p.id))}
}

// SetDisk configures the process's disk from now on.
func (p *Proc) SetDisk(cfg DiskConfig) { p.disk.cfg = cfg }

// incDisk is the runtime.Disk of one incarnation.
type incDisk struct{ inc *incarnation }

func (d incDisk) FS() vfs.FS { return d.inc.p.disk.fs }

func (d incDisk) Commit(from runtime.Loop, fn func() error, tag any) {
	if d.inc.dead {
		return
	}
	l := from.(*loop)
	dk := &d.inc.p.disk
	dk.p.s.stats.DiskCommits++
	hc := heldCommit{l: l, fn: fn, tag: tag, latency: time.Duration(between(dk.rng, int64(dk.cfg.LatencyMin), int64(dk.cfg.LatencyMax)))}
	hc.fail = dk.cfg.ErrorPct > 0 && dk.rng.IntN(100) < dk.cfg.ErrorPct
	hc.applyAnyway = hc.fail && dk.rng.IntN(2) == 0
	if dk.held {
		dk.queue = append(dk.queue, hc)
		return
	}
	dk.schedule(hc)
}

// schedule arranges a commit's completion, after its latency and after the
// commit submitted before it.
func (dk *disk) schedule(hc heldCommit) {
	s, l := dk.p.s, hc.l
	at := max(s.now+hc.latency, dk.last)
	dk.last = at
	s.schedule(&event{
		at: at, node: l.node, loop: l.name, kind: "disk-done", digest: digestValue(hc.tag),
		alive: l.alive,
		fn: func() {
			var err error
			switch {
			case dk.full:
				// The write is refused as it reaches the full disk: it
				// wrote nothing (the production runtime checks its
				// reserve before it runs a batch).
				s.stats.DiskFullRefused++
				err = ErrNoSpace
			case !hc.fail || hc.applyAnyway:
				err = hc.fn()
			}
			if hc.fail && !dk.full {
				s.stats.DiskErrors++
				err = ErrDiskInjected
			}
			l.handle(runtime.DiskDone{Tag: hc.tag, Err: err})
		},
	})
}

// HoldDisk holds the process's disk commits, as a stuck fsync would: a
// commit submitted from now on neither runs nor completes until
// ReleaseDisk; commits submitted before complete as usual. What a process
// wrote unsynced before submitting a held commit stays unsynced, so a crash
// while held (Crash with keepPct 0) loses it. A crash or stop ends the
// hold, and the held commits are lost with the incarnation that submitted
// them.
func (p *Proc) HoldDisk() {
	p.s.trace.add(int64(p.s.now), p.id, "", "disk-hold", 0)
	p.disk.held = true
}

// ReleaseDisk ends a hold: the held commits complete in submission order,
// each its drawn latency from now (and no earlier than the one before). It
// returns how many commits were held.
func (p *Proc) ReleaseDisk() int {
	dk := &p.disk
	n := len(dk.queue)
	p.s.trace.add(int64(p.s.now), p.id, "", "disk-release", uint64(n))
	q := dk.queue
	dk.held, dk.queue = false, nil
	for _, hc := range q {
		dk.schedule(hc)
	}
	return n
}

// FillDisk makes the process's disk full, as its space running out would:
// from now on every commit that completes fails with ErrNoSpace and writes
// nothing, until FreeDisk. The state belongs to the disk and outlives
// incarnations (a node restarted meanwhile finds it still full).
func (p *Proc) FillDisk() {
	p.s.trace.add(int64(p.s.now), p.id, "", "disk-full", 0)
	p.disk.full = true
}

// FreeDisk gives the disk room again: commits completing from now on run.
func (p *Proc) FreeDisk() {
	if !p.disk.full {
		return
	}
	p.s.trace.add(int64(p.s.now), p.id, "", "disk-space", 0)
	p.disk.full = false
}

// DiskFull reports whether the disk is full (FillDisk).
func (p *Proc) DiskFull() bool { return p.disk.full }

// DiskHeld reports whether the disk is held, and how many commits wait.
func (p *Proc) DiskHeld() (held bool, waiting int) { return p.disk.held, len(p.disk.queue) }

// endHold drops a hold and its commits, whose incarnation is gone.
func (dk *disk) endHold() { dk.held, dk.queue = false, nil }

// crashClone returns the file system as it could be after a power failure
// now: everything synced survives, and keepPct percent of the unsynced data.
//
// Pebble's own MemFS.CrashClone draws its random choices while ranging over
// Go maps, so a share strictly between 0 and 100 would not replay from a
// seed. We use it only at 0 (exactly the synced state) and 100 (everything
// written: a process crash with the OS intact), and build the shares in
// between ourselves, deterministically: starting from the synced state,
// every file that grew by appends since its last sync keeps each 4 KiB block
// of its unsynced tail when a hash of (seed, path, block) says so; skipped
// blocks before a kept one read as zeros (a torn write). Unsynced directory
// entries are lost. Each of those is a state a real crash can leave.
func crashClone(fs *vfs.MemFS, keepPct int, seed uint64) *vfs.MemFS {
	switch {
	case keepPct <= 0:
		return fs.CrashClone(vfs.CrashCloneCfg{})
	case keepPct >= 100:
		return fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 100, RNG: rand.New(rand.NewPCG(seed, 0))})
	}
	synced := fs.CrashClone(vfs.CrashCloneCfg{})
	full := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 100, RNG: rand.New(rand.NewPCG(seed, 0))})
	out := vfs.NewCrashableMem()
	tc := tornCopy{synced: synced, full: full, out: out, keepPct: keepPct, seed: seed}
	if err := tc.dir("/"); err != nil {
		panic(fmt.Sprintf("sim: crash clone: %v", err))
	}
	return out
}

const crashBlock = 4096

type tornCopy struct {
	synced, full, out *vfs.MemFS
	keepPct           int
	seed              uint64
}

func (tc *tornCopy) dir(dir string) error {
	names, err := tc.synced.List(dir)
	if err != nil {
		return err
	}
	slices.Sort(names)
	for _, name := range names {
		path := tc.synced.PathJoin(dir, name)
		fi, err := tc.synced.Stat(path)
		if err != nil {
			return err
		}
		if fi.IsDir() {
			if err := tc.out.MkdirAll(path, 0o755); err != nil {
				return err
			}
			if err := tc.dir(path); err != nil {
				return err
			}
			continue
		}
		if err := tc.file(path); err != nil {
			return err
		}
	}
	d, err := tc.out.OpenDir(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func (tc *tornCopy) file(path string) error {
	data, err := readAll(tc.synced, path)
	if err != nil {
		return err
	}
	if cur, err := readAll(tc.full, path); err == nil && len(cur) > len(data) && bytes.HasPrefix(cur, data) {
		data = tc.tornTail(path, data, cur)
	}
	f, err := tc.out.Create(path, vfs.WriteCategoryUnspecified)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		return err
	}
	return f.Sync()
}

// tornTail extends the synced prefix with the kept blocks of cur's tail.
func (tc *tornCopy) tornTail(path string, synced, cur []byte) []byte {
	out := slices.Clone(synced)
	for blk := len(synced) / crashBlock; blk*crashBlock < len(cur); blk++ {
		if !tc.keep(path, blk) {
			continue
		}
		lo, hi := max(blk*crashBlock, len(synced)), min((blk+1)*crashBlock, len(cur))
		if len(out) < lo {
			out = append(out, make([]byte, lo-len(out))...)
		}
		out = append(out[:lo], cur[lo:hi]...)
	}
	return out
}

func (tc *tornCopy) keep(path string, blk int) bool {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:], tc.seed)
	binary.BigEndian.PutUint64(b[8:], uint64(blk))
	h := digestBytes(append(b[:], path...))
	return int(h%100) < tc.keepPct
}

func readAll(fs vfs.FS, path string) ([]byte, error) {
	f, err := fs.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}
