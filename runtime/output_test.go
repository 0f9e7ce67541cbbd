package runtime

import "testing"

func TestTheOutputBudgetCutsAConnectionOverItsCapOrAHeavyDebtorOverTheTotal(t *testing.T) {
	b := OutputBudget{PerConn: 1000, Total: 10_000}
	for _, c := range []struct {
		owed  int
		total int64
		want  error
	}{
		{0, 0, nil}, {1000, 1000, nil}, {1001, 1001, ErrSlowReader}, {1001, 20_000, ErrSlowReader},
		{250, 10_001, ErrOutputBudget}, {249, 10_001, nil}, {999, 10_000, nil},
	} {
		if got := b.Verdict(c.owed, c.total); got != c.want {
			t.Errorf("owed %d of total %d: %v, want %v", c.owed, c.total, got, c.want)
		}
	}
	if d := (OutputBudget{}).WithDefaults(); d.PerConn != DefaultMaxPendingOutput || d.Total != DefaultMaxTotalPendingOutput {
		t.Errorf("defaults %+v", d)
	}
}
