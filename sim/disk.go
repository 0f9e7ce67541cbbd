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
	s := d.inc.p.s
	s.stats.DiskCommits++
	at := max(s.now+time.Duration(between(dk.rng, int64(dk.cfg.LatencyMin), int64(dk.cfg.LatencyMax))), dk.last)
	dk.last = at
	fail := dk.cfg.ErrorPct > 0 && dk.rng.IntN(100) < dk.cfg.ErrorPct
	applyAnyway := fail && dk.rng.IntN(2) == 0
	s.schedule(&event{
		at: at, node: l.node, loop: l.name, kind: "disk-done", digest: digestValue(tag),
		alive: l.alive,
		fn: func() {
			var err error
			if !fail || applyAnyway {
				err = fn()
			}
			if fail {
				s.stats.DiskErrors++
				err = ErrDiskInjected
			}
			l.handle(runtime.DiskDone{Tag: tag, Err: err})
		},
	})
}

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
