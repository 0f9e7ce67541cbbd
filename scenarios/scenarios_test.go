package scenarios

import (
	"testing"

	"github.com/cockroachdb/datadriven"
)

// TestScenarios runs every scenario under testdata/ in the simulator;
// -rewrite regenerates their expected output.
func TestScenarios(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		e := NewEnv(t, 1)
		datadriven.RunTestAny(t, path, e.Handle)
	})
}
