package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/jindou-im/jindou/node"
)

func TestReplicaConfigurationChangesAreSummedUpInOneInfoLinePerFlush(t *testing.T) {
	var buf bytes.Buffer
	info := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	sum := &confSummary{last: map[string]confSets{}}
	core := slog.New(confLog{inner: info.Handler(), sum: sum})
	for slot := range 20 {
		l := core.With("slot", slot)
		l.Debug("1 switched to configuration voters=(1 2 3)&&() learners=()") // first seen at start
		l.Debug("1 switched to configuration voters=(1 2 3)&&() learners=(4)")
		l.Debug("1 switched to configuration voters=(1 2 3 4)&&() learners=()")
		l.Debug("1 switched to configuration voters=(2 3 4)&&() learners=()")
	}
	core.With("slot", controllerGroup).Debug("1 switched to configuration voters=(1 2 3)&&() learners=(4)")
	core.With("slot", 3).Debug("1 [logterm: 2, index: 5] sent MsgVote request") // other chatter is not summed
	if buf.Len() != 0 {
		t.Fatalf("debug lines reached the info log before the flush:\n%s", buf.String())
	}
	sum.flush(info)
	sum.flush(info) // nothing new: no line
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("want one summary line, got:\n%s", buf.String())
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"groups": 21, "learners_added": 20, "promoted": 20, "removed": 20, "demoted": 0, "first_seen": 21}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v (%v)", k, got[k], v, got)
		}
	}
	if s := got["slots"].(string); !strings.HasPrefix(s, "0 1 2 3 4 5 6 7 and 13 more") {
		t.Errorf("slots named: %q", s)
	}
}

func TestTableChangesLogJoinsRemovalsAndOneSummaryOfTheMoves(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	v1 := node.ClusterMembersReply{Known: true, Version: 1, Members: []node.MemberInfo{{ID: 1, Status: "active"}, {ID: 2, Status: "active"}},
		Slots: [][]uint64{{1, 2}, {2, 1}, {1, 2}}}
	v2 := node.ClusterMembersReply{Known: true, Version: 2, Members: append(v1.Members[:2:2], node.MemberInfo{ID: 3, Addr: "10.0.0.3:11110", Status: "active"}),
		Slots: [][]uint64{{1, 3}, {2, 1}, {3, 2}}}
	v3 := node.ClusterMembersReply{Known: true, Version: 3, Members: []node.MemberInfo{{ID: 1, Status: "removed"}, v2.Members[1], v2.Members[2]},
		Slots: [][]uint64{{2, 3}, {2, 3}, {3, 2}}}
	logTableChange(log, node.ClusterMembersReply{}, v1)
	logTableChange(log, v1, v2)
	logTableChange(log, v2, v3)
	out := buf.String()
	for _, want := range []string{`"msg":"cluster: table","version":1,"members":"1(active) 2(active)"`,
		`"msg":"cluster: member joined","member":3,"peer_addr":"10.0.0.3:11110","version":2`,
		`"msg":"cluster: slot replicas rebalanced","version":2,"slots":2,"gains":"3:+2","losses":"1:-1 2:-1"`,
		`"msg":"cluster: member removed","member":1,"version":3`,
		`"msg":"cluster: slot replicas rebalanced","version":3,"slots":2,"gains":"2:+1 3:+1","losses":"1:-2"`} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %s:\n%s", want, out)
		}
	}
	if strings.Count(out, "\n") != 5 {
		t.Errorf("want 5 lines:\n%s", out)
	}
}
