package reactor

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/cockroachdb/pebble/v2"
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
