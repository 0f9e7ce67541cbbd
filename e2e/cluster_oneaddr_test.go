package e2e

import (
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/wkclient"
)

// alternator is one TCP address in front of several upstreams, as a load
// balancer is: each connection it accepts goes to the next upstream in
// turn, bytes copied both ways until either side closes.
type alternator struct {
	ln   net.Listener
	ups  []string
	mu   sync.Mutex
	next int
	// landed is the upstream index of each connection, by the client's
	// address.
	landed map[string]int
	wg     sync.WaitGroup
}

func startAlternator(t *testing.T, ups ...string) *alternator {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := &alternator{ln: ln, ups: ups, landed: map[string]int{}}
	a.wg.Add(1)
	go a.serve()
	t.Cleanup(func() {
		ln.Close()
		a.wg.Wait()
	})
	return a
}

func (a *alternator) serve() {
	defer a.wg.Done()
	for {
		c, err := a.ln.Accept()
		if err != nil {
			return
		}
		a.mu.Lock()
		i := a.next % len(a.ups)
		a.next++
		a.landed[c.RemoteAddr().String()] = i
		a.mu.Unlock()
		up, err := net.Dial("tcp", a.ups[i])
		if err != nil {
			c.Close()
			continue
		}
		a.wg.Add(2)
		go a.pipe(c, up)
		go a.pipe(up, c)
	}
}

// pipe copies from src to dst, then closes both: a half-closed stream is
// a closed connection to the client and the node alike.
func (a *alternator) pipe(dst, src net.Conn) {
	defer a.wg.Done()
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
}

// upstreamOf is the upstream client c's connection went to.
func (a *alternator) upstreamOf(c *wkclient.NetClient) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.landed[c.Conn().LocalAddr().String()]
}

// TestClientsBehindOneAddressLandOnEitherNodeAndChatWithNothingLost: nodes
// 1 and 2 of a 3-node cluster are behind one address that sends each
// connection to the other node in turn. Five users, over 10 rounds, log in
// through it (each landing on the other node than in the round before),
// send a person message to the next user and one to their group, and
// every message reaches every recipient, whichever node each is on; the
// histories, read on node 3, hold every message once.
func TestClientsBehindOneAddressLandOnEitherNodeAndChatWithNothingLost(t *testing.T) {
	c := startCluster(t, clusterOpts{nodes: 3})
	front := startAlternator(t, c.node(0).TCP, c.node(1).TCP)
	const users, rounds, group = 5, 10, "oneaddr-group"
	uids := make([]string, users)
	for k := range uids {
		uids[k] = fmt.Sprint("one", k)
	}
	c.node(2).mustPost("/channel", map[string]any{"channel_id": group, "channel_type": 2, "subscribers": uids}, nil)
	landed := make([]map[int]bool, users)
	for k := range landed {
		landed[k] = map[int]bool{}
	}
	for r := range rounds {
		clients := make([]*wkclient.NetClient, users)
		for k, uid := range uids {
			cl, err := wkclient.DialTCP(front.ln.Addr().String(), wkclient.Options{UID: uid, DeviceFlag: proto.DeviceApp})
			if err != nil {
				t.Fatalf("round %d: %s logging in through the one address: %v", r, uid, err)
			}
			clients[k] = cl
			landed[k][front.upstreamOf(cl)] = true
		}
		for k, cl := range clients {
			if _, err := cl.Send(uids[(k+1)%users], proto.ChannelPerson, fmt.Sprintf("p-%d-%d", r, k), []byte(fmt.Sprintf("p-%d-%d", r, k))); err != nil {
				t.Fatal(err)
			}
			if _, err := cl.Send(group, proto.ChannelGroup, fmt.Sprintf("g-%d-%d", r, k), []byte(fmt.Sprintf("g-%d-%d", r, k))); err != nil {
				t.Fatal(err)
			}
		}
		for k, cl := range clients {
			awaitRound(t, cl, r, k, users, front.upstreamOf(cl))
			cl.Close()
		}
	}
	for k := range landed {
		if len(landed[k]) != 2 {
			t.Fatalf("%s landed only on upstreams %v: the test did not move it between the nodes", uids[k], landed[k])
		}
	}
	if g := c.node(2).history(uids[0], group, 2); len(g) != users*rounds {
		t.Fatalf("the group's history on node 3 holds %d messages, want %d", len(g), users*rounds)
	}
	for k := range uids {
		if p := c.node(2).history(uids[(k+1)%users], uids[k], 1); len(p) != rounds {
			t.Fatalf("%s -> %s: %d messages in the history, want %d", uids[k], uids[(k+1)%users], len(p), rounds)
		}
	}
}

// awaitRound reads user k's packets in round r until both its sends are
// acknowledged and it has received the person message of the user before
// it and the group messages of the others, each acknowledged (a resent
// RECV is counted once).
func awaitRound(t *testing.T, cl *wkclient.NetClient, r, k, users, node int) {
	t.Helper()
	want := map[string]bool{fmt.Sprintf("p-%d-%d", r, (k+users-1)%users): true}
	for j := range users {
		if j != k {
			want[fmt.Sprintf("g-%d-%d", r, j)] = true
		}
	}
	acks := 0
	deadline := time.Now().Add(15 * time.Second)
	for acks < 2 || len(want) > 0 {
		p, err := cl.Next(deadline)
		if err != nil {
			t.Fatalf("round %d: user %d on node %d: %d SENDACKs, still waiting for %v: %v", r, k, node+1, acks, want, err)
		}
		switch p := p.(type) {
		case *proto.Sendack:
			if p.ReasonCode != proto.ReasonSuccess {
				t.Fatalf("round %d: user %d on node %d: SENDACK %+v", r, k, node+1, p)
			}
			acks++
		case *proto.Recv:
			delete(want, p.ClientMsgNo)
			if err := cl.Ack(p); err != nil {
				t.Fatal(err)
			}
		}
	}
}
