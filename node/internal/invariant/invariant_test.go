package invariant

import (
	"errors"
	"testing"
)

func TestAlwaysPanicsWithAViolationNamingTheBrokenAssumption(t *testing.T) {
	defer func() {
		var v *Violation
		err, _ := recover().(error)
		if !errors.As(err, &v) || v.Error() != "invariant violated: seq 3 after 1" {
			t.Fatalf("recovered %v, want a *Violation for seq 3 after 1", err)
		}
	}()
	Always(true, "never reported")
	Always(false, "seq %d after %d", 3, 1)
	t.Fatal("Always(false) returned")
}
