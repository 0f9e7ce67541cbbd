package scenarios

import (
	"flag"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
)

var (
	jindouBin = flag.String("jindou", "", "the jindou binary the real backend runs (TestScenariosReal skips without it; `make scenarios-real` builds and passes it)")
	realFiles = flag.String("real-files", "", "comma-separated scenario names (file names without .txt) the real backend runs; empty: every real-capable one")
)

// TestScenariosReal runs the scenario files that say they run on real
// processes (scenario.go: no `# backends:` line, or one naming real)
// against jindou processes on 127.0.0.1, and compares each command's output
// with the file's in normalized form (timestamps stripped, clients in name
// order). It never rewrites a file.
func TestScenariosReal(t *testing.T) {
	if *jindouBin == "" {
		t.Skip("no -jindou binary: `make scenarios-real` runs the scenarios against real processes")
	}
	if f := flag.Lookup("rewrite"); f != nil && f.Value.String() == "true" {
		t.Fatal("-rewrite regenerates the simulator's output: run it without -jindou")
	}
	bin, err := filepath.Abs(*jindouBin)
	if err != nil {
		t.Fatal(err)
	}
	var only []string
	if *realFiles != "" {
		only = strings.Split(*realFiles, ",")
	}
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		name := strings.TrimSuffix(filepath.Base(path), ".txt")
		if only != nil && !slices.Contains(only, name) {
			t.Skipf("not in -real-files")
		}
		bs, err := readBackends(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bs.has("real") {
			t.Skipf("backends %v: %s", bs.kinds, bs.reason)
		}
		e := newEnv(newRealBackend(t, bin))
		datadriven.RunTestAny(t, path, func(t testing.TB, td *datadriven.TestData) string {
			got := e.Handle(t, td)
			if normalized(got) == normalized(td.Expected) {
				return td.Expected
			}
			t.Logf("%s: normalized, want:\n%s\ngot:\n%s", td.Pos, normalized(td.Expected), normalized(got))
			return got
		})
	})
}
