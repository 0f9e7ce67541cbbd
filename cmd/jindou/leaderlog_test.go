package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
)

func TestLeadershipChangesReachInfoOnlyAfterStartUp(t *testing.T) {
	var buf bytes.Buffer
	on := &atomic.Bool{}
	log := slog.New(leaderLog{inner: slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}), on: on}).With("slot", 7)
	log.Debug("1 became leader at term 2") // start-up: stays at debug
	on.Store(true)
	log.Debug("1 became follower at term 3")
	log.Debug("1 [logterm: 2, index: 5] sent MsgVote request") // other chatter stays at debug
	log.Info("kept")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want the promoted change and the info line, got:\n%s", buf.String())
	}
	var first map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if first["level"] != "INFO" || first["msg"] != "slot leadership changed: 1 became follower at term 3" || first["slot"] != float64(7) {
		t.Fatalf("promoted line %v", first)
	}
}
