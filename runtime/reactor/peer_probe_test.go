package reactor

import (
	"errors"
	"testing"
	"time"
)

func TestAProbeLearnsWhichNodeListensAndItsCardAndAWrongTokenIsRefused(t *testing.T) {
	_, b, _, _ := peerPair(t, "s3cret", "s3cret")
	prober := func(token string) *Host {
		cfg := testConfig(t)
		cfg.NodeID = 9
		h := New(cfg) // not started: a joining node probes before it starts
		h.SetPeerAuth(token, func() []byte { return []byte("card of 9") })
		return h
	}
	id, card, err := prober("s3cret").ProbePeer(b.PeerAddr().String(), time.Second)
	if err != nil || id != 2 || string(card) != "card of 2" {
		t.Fatalf("probe: node %d, card %q, %v; want node 2 with its card", id, card, err)
	}
	if _, _, err := prober("wrong").ProbePeer(b.PeerAddr().String(), time.Second); !errors.Is(err, errRefusedByPeer) {
		t.Fatalf("a probe with a wrong token: %v, want a refusal", err)
	}
	eventually(t, "the refused probe counted by the listener", func() bool { return b.PeerStats().Refused == 1 })
}
