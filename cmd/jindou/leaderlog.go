package main

import (
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
)

// The core logs raft's chatter at debug, a slot's leadership changes
// included ("1 became leader at term 2"). At start-up every slot elects
// itself and one "slots caught up" line sums that up; after it, each
// leadership change is worth an info line. leaderLog promotes those lines
// of the core's logger once on is set.
type leaderLog struct {
	inner slog.Handler
	on    *atomic.Bool
}

// leadershipChanges are the raft lines (etcd raft's raft.go) that say a
// slot changed hands.
var leadershipChanges = []string{" became leader at term ", " became follower at term "}

func isLeadershipChange(msg string) bool {
	for _, s := range leadershipChanges {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

func (h leaderLog) Enabled(ctx context.Context, l slog.Level) bool {
	return h.inner.Enabled(ctx, l) || (l < slog.LevelInfo && h.on.Load())
}

func (h leaderLog) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelInfo && h.on.Load() && isLeadershipChange(r.Message) {
		promoted := slog.NewRecord(r.Time, slog.LevelInfo, "slot leadership changed: "+r.Message, r.PC)
		r.Attrs(func(a slog.Attr) bool {
			promoted.AddAttrs(a)
			return true
		})
		r = promoted
	}
	if !h.inner.Enabled(ctx, r.Level) {
		return nil
	}
	return h.inner.Handle(ctx, r)
}

func (h leaderLog) WithAttrs(attrs []slog.Attr) slog.Handler {
	return leaderLog{inner: h.inner.WithAttrs(attrs), on: h.on}
}

func (h leaderLog) WithGroup(name string) slog.Handler {
	return leaderLog{inner: h.inner.WithGroup(name), on: h.on}
}
