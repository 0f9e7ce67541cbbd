package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// metaFile, inside Config.DataDir, records what the data was written with
// and may not change while the data lives: the slot count (a channel's
// slot is a hash modulo the count, so another count would look for every
// channel in another slot and hide its data). A cluster id joins it later.
const metaFile = "META.json"

// metaFormat is the version of metaFile's layout.
const metaFormat = 1

// dataMeta is metaFile's content.
type dataMeta struct {
	Format int `json:"format"`
	Slots  int `json:"slots"`
}

// ErrSlotsChanged: the data dir was written with another slot count.
var ErrSlotsChanged = errors.New("the slot count is fixed for a data dir")

// checkMeta compares the data dir's metaFile with the configuration, or
// writes it (synced, then renamed into place) when the data dir has none.
func (n *Node) checkMeta() error {
	fs := n.env.Disk().FS()
	if err := fs.MkdirAll(n.cfg.DataDir, 0o755); err != nil {
		return fmt.Errorf("node: data dir: %w", err)
	}
	path := fs.PathJoin(n.cfg.DataDir, metaFile)
	have, err := readMeta(fs, path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return writeMeta(fs, n.cfg.DataDir, path, dataMeta{Format: metaFormat, Slots: n.cfg.Slots})
	case err != nil:
		return fmt.Errorf("node: %s: %w", metaFile, err)
	case have.Slots != n.cfg.Slots:
		return fmt.Errorf("node: %w: the data was written with slots %d, this start asks for slots %d; start with slots: %d (or a fresh data dir)",
			ErrSlotsChanged, have.Slots, n.cfg.Slots, have.Slots)
	}
	return nil
}

func readMeta(fs vfs.FS, path string) (dataMeta, error) {
	var m dataMeta
	f, err := fs.Open(path)
	if err != nil {
		return m, err
	}
	defer f.Close()
	raw, err := io.ReadAll(f)
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return m, fmt.Errorf("unreadable (%v): move it away only if you know the data dir's slot count", err)
	}
	if m.Format != metaFormat || m.Slots < 1 {
		return m, fmt.Errorf("format %d with slots %d: not a layout this version knows", m.Format, m.Slots)
	}
	return m, nil
}

func writeMeta(fs vfs.FS, dir, path string, m dataMeta) error {
	raw, err := json.Marshal(m)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	f, err := fs.Create(tmp, vfs.WriteCategoryUnspecified)
	if err != nil {
		return fmt.Errorf("node: write %s: %w", metaFile, err)
	}
	_, err = f.Write(append(raw, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = fs.Rename(tmp, path)
	}
	if err == nil {
		err = syncDir(fs, dir)
	}
	if err == nil { // the data dir itself may be new
		err = syncDir(fs, fs.PathDir(dir))
	}
	if err != nil {
		return fmt.Errorf("node: write %s: %w", metaFile, err)
	}
	return nil
}

func syncDir(fs vfs.FS, dir string) error {
	d, err := fs.OpenDir(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
