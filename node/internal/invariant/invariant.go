package invariant

import "fmt"

// Violation is a broken invariant: what was assumed, and what was found.
type Violation struct{ Msg string }

func (v *Violation) Error() string { return "invariant violated: " + v.Msg }

// Always panics with a *Violation when cond is false. The message is
// formatted only then, so a check on the hot path costs one branch.
func Always(cond bool, format string, args ...any) {
	if !cond {
		panic(&Violation{Msg: fmt.Sprintf(format, args...)})
	}
}
