package scenarios

import (
	"testing"

	"github.com/cockroachdb/datadriven"
)

// TestScenarios runs every scenario under testdata/ in the simulator (but
// one whose `# backends:` line leaves the simulator out);
// -rewrite regenerates their expected output.
func TestScenarios(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		bs, err := readBackends(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bs.has("sim") {
			t.Skipf("backends %v: %s", bs.kinds, bs.reason)
		}
		e := NewEnv(t, 1)
		datadriven.RunTestAny(t, path, e.Handle)
	})
}
