package node

import (
	"slices"
	"testing"
	"time"

	"github.com/jindou-im/jindou/runtime"
)

// The presence table on its own: numbering, refreshes, incarnations and
// expiry, without a cluster around it.

func gwSrc(node, gw int, inc uint64) presenceSource {
	return presenceSource{Node: runtime.NodeID(node), Gateway: gw, Inc: inc}
}

func on(uid string) []presenceChange  { return []presenceChange{{UID: uid, State: presenceOn}} }
func off(uid string) []presenceChange { return []presenceChange{{UID: uid, State: presenceOff}} }

func holders(t *presenceTable, uid string) []runtime.NodeID {
	var out []runtime.NodeID
	for _, h := range t.users[uid] {
		out = append(out, h.node)
	}
	return out
}

func TestPresenceUpdatesInOrderNeedNoRefresh(t *testing.T) {
	tb := newPresenceTable()
	src := gwSrc(2, 0, 7)
	if tb.onUpdate(presenceUpdate{Src: src, Seq: 1, Changes: on("u")}, 0) {
		t.Fatal("the first update asked for a refresh")
	}
	if tb.onUpdate(presenceUpdate{Src: gwSrc(2, 1, 7), Seq: 1, Changes: on("u")}, 0) ||
		tb.onUpdate(presenceUpdate{Src: src, Seq: 1}, time.Second) {
		t.Fatal("a second gateway or a beat in step asked for a refresh")
	}
	if got := holders(&tb, "u"); !slices.Equal(got, []runtime.NodeID{2, 2}) {
		t.Fatalf("u held by %v", got)
	}
	tb.onUpdate(presenceUpdate{Src: src, Seq: 2, Changes: off("u")}, 0)
	tb.onUpdate(presenceUpdate{Src: src, Seq: 1, Changes: on("u")}, 0) // a duplicate, late
	if got := holders(&tb, "u"); !slices.Equal(got, []runtime.NodeID{2}) {
		t.Fatalf("after gw-0 went and a late repeat: u held by %v", got)
	}
}

func TestAMissedUpdateIsRepairedByAWholePresenceAndTheUpdatesAfterIt(t *testing.T) {
	tb := newPresenceTable()
	src := gwSrc(3, 0, 1)
	tb.onUpdate(presenceUpdate{Src: src, Seq: 1, Changes: on("a")}, 0)
	// Update 2 (b online) is lost; the beat says 2.
	if !tb.onUpdate(presenceUpdate{Src: src, Seq: 2}, time.Second) {
		t.Fatal("a beat ahead of the table did not ask for a refresh")
	}
	if tb.onUpdate(presenceUpdate{Src: src, Seq: 2}, time.Second+time.Millisecond) {
		t.Fatal("asked again before presenceAskRetry")
	}
	// Update 3 (a gone) overtakes the answer, which is as of 2.
	tb.onUpdate(presenceUpdate{Src: src, Seq: 3, Changes: off("a")}, time.Second)
	tb.onFull(presenceFull{Src: src, Seq: 2, Part: 1, Parts: 2, Holds: on("b")}, time.Second)
	tb.onFull(presenceFull{Src: src, Seq: 2, Part: 0, Parts: 2, Holds: on("a")}, time.Second)
	if holders(&tb, "a") != nil || !slices.Equal(holders(&tb, "b"), []runtime.NodeID{3}) {
		t.Fatalf("after the refresh: a held by %v, b by %v; want a gone, b on node 3", holders(&tb, "a"), holders(&tb, "b"))
	}
	s := tb.sources[0]
	if s.gap || s.seq != 3 || tb.stats.Refreshes != 1 {
		t.Fatalf("source gap=%v seq=%d refreshes=%d, want in step at 3", s.gap, s.seq, tb.stats.Refreshes)
	}
	if tb.onUpdate(presenceUpdate{Src: src, Seq: 3}, 3*time.Second) {
		t.Fatal("a beat in step after the refresh asked again")
	}
}

func TestANewIncarnationRetiresTheOldOnesPresence(t *testing.T) {
	tb := newPresenceTable()
	tb.onUpdate(presenceUpdate{Src: gwSrc(2, 0, 1), Seq: 1, Changes: on("a")}, 0)
	tb.onUpdate(presenceUpdate{Src: gwSrc(2, 1, 1), Seq: 1, Changes: on("b")}, 0)
	tb.onUpdate(presenceUpdate{Src: gwSrc(2, 1, 9), Seq: 0}, time.Second) // node 2 restarted
	if len(tb.users) != 0 || tb.stats.Retired != 2 {
		t.Fatalf("after node 2's restart: %d uids held, %d gateways retired", len(tb.users), tb.stats.Retired)
	}
	tb.onUpdate(presenceUpdate{Src: gwSrc(2, 0, 1), Seq: 2, Changes: on("c")}, time.Second) // late, from the old one
	if len(tb.users) != 0 || tb.stats.Dropped != 1 {
		t.Fatalf("a late update of the retired incarnation was taken (%d uids)", len(tb.users))
	}
}

func TestAGatewayNotHeardForTheExpiryIsDropped(t *testing.T) {
	tb := newPresenceTable()
	tb.onUpdate(presenceUpdate{Src: gwSrc(2, 0, 1), Seq: 1, Changes: on("a")}, 0)
	tb.onUpdate(presenceUpdate{Src: gwSrc(1, 0, 1), Seq: 0}, presenceExpiry-time.Millisecond)
	if len(tb.users) != 1 {
		t.Fatal("dropped before the expiry")
	}
	tb.onUpdate(presenceUpdate{Src: gwSrc(1, 0, 1), Seq: 0}, presenceExpiry)
	if len(tb.users) != 0 || tb.stats.Expired != 1 {
		t.Fatalf("node 2 unheard for %v: %d uids held", presenceExpiry, len(tb.users))
	}
}

func TestRecipientsAreSplitByTheNodesHoldingThem(t *testing.T) {
	tb := newPresenceTable()
	tb.onUpdate(presenceUpdate{Src: gwSrc(2, 0, 1), Seq: 1, Changes: on("a")}, 0)
	tb.onUpdate(presenceUpdate{Src: gwSrc(2, 1, 1), Seq: 1, Changes: on("a")}, 0)
	tb.onUpdate(presenceUpdate{Src: gwSrc(3, 0, 1), Seq: 1, Changes: on("b")}, 0)
	tb.onUpdate(presenceUpdate{Src: gwSrc(1, 0, 1), Seq: 1, Changes: on("c")}, 0) // this node
	got := tb.recipientsOn([]runtime.NodeID{2, 3, 4}, []string{"a", "b", "c", "d"})
	want := [][]string{{"a"}, {"b"}, nil}
	for i := range want {
		if !slices.Equal(got[i], want[i]) {
			t.Fatalf("by node: %v, want %v", got, want)
		}
	}
}
