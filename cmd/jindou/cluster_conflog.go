package main

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
)

// Raft logs each replica's configuration change at debug ("1 switched to
// configuration voters=(1 2 3)&&() learners=(4)"): one line per group,
// dozens when a member joins. confLog takes those lines to confSummary,
// which the membership watcher sums up at info once per interval: how
// many groups changed here, how many replicas were added as learners,
// promoted, demoted or removed, and a few of them by name.
type confLog struct {
	inner slog.Handler
	sum   *confSummary
	group string // the logger's slot attribute
}

const confSwitched = " switched to configuration "

func (h confLog) Enabled(ctx context.Context, l slog.Level) bool {
	return h.inner.Enabled(ctx, l) || l >= slog.LevelDebug
}

func (h confLog) Handle(ctx context.Context, r slog.Record) error {
	if i := strings.Index(r.Message, confSwitched); i >= 0 && h.group != "" {
		h.sum.record(h.group, r.Message[i+len(confSwitched):])
	}
	if !h.inner.Enabled(ctx, r.Level) {
		return nil
	}
	return h.inner.Handle(ctx, r)
}

func (h confLog) WithAttrs(attrs []slog.Attr) slog.Handler {
	g := h.group
	for _, a := range attrs {
		if a.Key == "slot" {
			g = a.Value.String()
			if g == fmt.Sprint(controllerGroup) {
				g = "controller"
			}
		}
	}
	return confLog{inner: h.inner.WithAttrs(attrs), sum: h.sum, group: g}
}

func (h confLog) WithGroup(name string) slog.Handler {
	return confLog{inner: h.inner.WithGroup(name), sum: h.sum, group: h.group}
}

// controllerGroup is the controller's group id (node.ControllerGroup).
const controllerGroup = 65535

// confSets is a group's configuration: voters and learners.
type confSets struct{ voters, learners []string }

// parseConf reads raft's "voters=(1 2 3)&&() learners=(4)".
func parseConf(s string) confSets {
	field := func(key string) []string {
		i := strings.Index(s, key+"=(")
		if i < 0 {
			return nil
		}
		rest := s[i+len(key)+2:]
		j := strings.IndexByte(rest, ')')
		if j < 0 {
			return nil
		}
		return strings.Fields(rest[:j])
	}
	return confSets{voters: field("voters"), learners: field("learners")}
}

// confSummary gathers the configuration changes until flushed.
type confSummary struct {
	mu   sync.Mutex
	last map[string]confSets
	// the counts since the last flush, and the groups they were in;
	// firstSeen counts groups not seen before (started or created here:
	// raft logs a group's configuration when it starts)
	learnersAdded, promoted, demoted, removed, firstSeen int
	groups                                               []string
}

func (c *confSummary) record(group, conf string) {
	now := parseConf(conf)
	c.mu.Lock()
	defer c.mu.Unlock()
	was, seen := c.last[group]
	c.last[group] = now
	if !seen {
		c.firstSeen++
	} else {
		c.count(was, now)
	}
	if !slices.Contains(c.groups, group) {
		c.groups = append(c.groups, group)
	}
}

func (c *confSummary) count(was, now confSets) {
	for _, id := range now.learners {
		switch {
		case slices.Contains(was.voters, id):
			c.demoted++
		case !slices.Contains(was.learners, id):
			c.learnersAdded++
		}
	}
	for _, id := range now.voters {
		if slices.Contains(was.learners, id) {
			c.promoted++
		}
	}
	for _, id := range slices.Concat(was.voters, was.learners) {
		if !slices.Contains(now.voters, id) && !slices.Contains(now.learners, id) {
			c.removed++
		}
	}
}

// confSummaryGroups bounds the groups a summary names.
const confSummaryGroups = 8

// flush logs what changed since the last flush, in one line.
func (c *confSummary) flush(log *slog.Logger) {
	c.mu.Lock()
	if len(c.groups) == 0 {
		c.mu.Unlock()
		return
	}
	named := c.groups
	if len(named) > confSummaryGroups {
		named = append(slices.Clone(named[:confSummaryGroups]), fmt.Sprintf("and %d more", len(c.groups)-confSummaryGroups))
	}
	args := []any{"groups", len(c.groups), "learners_added", c.learnersAdded, "promoted", c.promoted, "demoted", c.demoted,
		"removed", c.removed, "first_seen", c.firstSeen, "slots", strings.Join(named, " ")}
	c.learnersAdded, c.promoted, c.demoted, c.removed, c.firstSeen, c.groups = 0, 0, 0, 0, 0, nil
	c.mu.Unlock()
	log.Info("cluster: replica configurations changed", args...)
}
