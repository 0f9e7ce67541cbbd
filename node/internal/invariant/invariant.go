package invariant

import "fmt"

// Violation is a broken invariant: what was assumed, and what was found.
type Violation struct{ Msg string }

func (v *Violation) Error() string { return "invariant violated: " + v.Msg }

// Always panics with a *Violation when cond is false.
//
// On a hot path write `if !cond { invariant.Fail(...) }` instead: Go boxes
// Always's arguments for its ...any before the call, whether cond holds or
// not, and that is an allocation per check; Fail's are boxed only when the
// check fails.
func Always(cond bool, format string, args ...any) {
	if !cond {
		Fail(format, args...)
	}
}

// Fail reports a broken invariant: it panics with a *Violation.
func Fail(format string, args ...any) {
	panic(&Violation{Msg: fmt.Sprintf(format, args...)})
}
