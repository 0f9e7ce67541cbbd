package chaos

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Counter counts the faults that fired, by class, and the workload
// features that happened (coverage.go), across runs.
type Counter struct {
	fired    map[Class]int
	features Coverage
}

// NewCounter makes an empty counter.
func NewCounter() *Counter { return &Counter{fired: map[Class]int{}, features: Coverage{}} }

// Fire counts a fault that took effect.
func (c *Counter) Fire(cl Class) { c.fired[cl]++ }

// AddDiskErrors counts commits that failed (the simulator's stats): disk
// errors count as fired only when a commit actually fails.
func (c *Counter) AddDiskErrors(n int64) {
	if n > 0 {
		c.fired[DiskErrors] += int(n)
	}
}

// Merge adds what o counted to c.
func (c *Counter) Merge(o *Counter) {
	for cl, n := range o.fired {
		c.fired[cl] += n
	}
	c.Covered(o.features)
}

// Count is how many times a class fired.
func (c *Counter) Count(cl Class) int { return c.fired[cl] }

// Missing lists the classes among want that never fired, sorted.
func (c *Counter) Missing(want []Class) []Class {
	return never(want, func(cl Class) bool { return c.fired[cl] == 0 })
}

// never lists the entries of want for which zero holds, sorted.
func never[K cmp.Ordered](want []K, zero func(K) bool) []K {
	var out []K
	for _, k := range want {
		if zero(k) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// String lists the counts, sorted by class, then the features' counts.
func (c *Counter) String() string {
	classes := make([]Class, 0, len(c.fired))
	for cl := range c.fired {
		classes = append(classes, cl)
	}
	slices.Sort(classes)
	parts := make([]string, 0, len(classes)+len(c.features))
	for _, cl := range classes {
		parts = append(parts, fmt.Sprintf("%s=%d", cl, c.fired[cl]))
	}
	features := make([]Feature, 0, len(c.features))
	for f := range c.features {
		features = append(features, f)
	}
	slices.Sort(features)
	for _, f := range features {
		parts = append(parts, fmt.Sprintf("%s=%d", f, c.features[f]))
	}
	return strings.Join(parts, " ")
}
