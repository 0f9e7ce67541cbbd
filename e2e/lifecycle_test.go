package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jindou-im/jindou/node/proto"
)

// TestAcknowledgedSendsSurviveKill9: many concurrent POST /message/send to
// a group, SIGKILL in the middle; after a restart on the same data dir,
// every send that was answered with a seq is in the log at that seq, and
// the log has no gaps and nothing that was never sent.
func TestAcknowledgedSendsSurviveKill9(t *testing.T) {
	dir := t.TempDir()
	p := startNode(t, nodeOpts{dataDir: dir})
	const group = "kill9-group"
	p.mustPost("/channel", map[string]any{"channel_id": group, "channel_type": 2, "subscribers": []string{"w1", "w2"}}, nil)

	const workers = 24
	var acked sync.Map // client_msg_no -> seq
	var nAcked, nSent atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				no := fmt.Sprintf("w%d-%d", w, i)
				nSent.Add(1)
				var r struct {
					Data struct {
						MessageSeq  uint64 `json:"message_seq"`
						ClientMsgNo string `json:"client_msg_no"`
					} `json:"data"`
				}
				err := p.post("/message/send", map[string]any{"from_uid": fmt.Sprintf("w%d", 1+w%2), "channel_id": group,
					"channel_type": 2, "client_msg_no": no, "payload": []byte("payload of " + no)}, &r)
				if err != nil {
					continue // the process died with the request in flight: outcome unknown
				}
				if r.Data.MessageSeq == 0 || r.Data.ClientMsgNo != no {
					t.Errorf("send %s answered %+v", no, r.Data)
					continue
				}
				acked.Store(no, r.Data.MessageSeq)
				nAcked.Add(1)
			}
		}()
	}
	// Kill once a good number of sends are acknowledged, with plenty in
	// flight.
	deadline := time.Now().Add(20 * time.Second)
	for nAcked.Load() < 400 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	p.kill9()
	stop.Store(true)
	wg.Wait()
	t.Logf("%d sends attempted, %d acknowledged before kill -9", nSent.Load(), nAcked.Load())
	if nAcked.Load() == 0 {
		t.Fatal("no send was acknowledged before the kill")
	}

	q := startNode(t, nodeOpts{dataDir: dir})
	hist := q.history("w1", group, 2)
	byNo := map[string]message{}
	for i, m := range hist {
		if m.MessageSeq != uint64(i+1) {
			t.Fatalf("history[%d] has seq %d: a gap or disorder", i, m.MessageSeq)
		}
		if string(m.Payload) != "payload of "+m.ClientMsgNo {
			t.Fatalf("seq %d: payload %q does not belong to %s", m.MessageSeq, m.Payload, m.ClientMsgNo)
		}
		if _, dup := byNo[m.ClientMsgNo]; dup {
			t.Fatalf("client_msg_no %s stored twice", m.ClientMsgNo)
		}
		byNo[m.ClientMsgNo] = m
	}
	missing := 0
	acked.Range(func(k, v any) bool {
		m, ok := byNo[k.(string)]
		if !ok || m.MessageSeq != v.(uint64) {
			missing++
			if missing < 5 {
				t.Errorf("acknowledged send %s at seq %d: after restart %+v (found %v)", k, v, m, ok)
			}
		}
		return true
	})
	if missing > 0 {
		t.Fatalf("%d acknowledged sends lost or moved", missing)
	}
	t.Logf("after restart: %d messages, seqs 1..%d without gaps, all %d acknowledged ones at their seqs",
		len(hist), len(hist), nAcked.Load())
}

// TestSIGTERMDisconnectsClientsAndKeepsData: on SIGTERM a connected client
// gets DISCONNECT and its connection closes, the process stops HTTP then
// the core and exits 0, and a restart on the same data dir has the data.
func TestSIGTERMDisconnectsClientsAndKeepsData(t *testing.T) {
	dir := t.TempDir()
	p := startNode(t, nodeOpts{dataDir: dir})
	a, b := dialTCP(t, p, "term-a"), dialTCP(t, p, "term-b")
	exchange(t, a, b, "term-a", "term-b", "before the stop", 1)
	var r struct {
		Data struct {
			MessageSeq uint64 `json:"message_seq"`
		} `json:"data"`
	}
	p.mustPost("/message/send", map[string]any{"from_uid": "term-b", "channel_id": "term-a", "channel_type": 1,
		"payload": []byte("via http")}, &r)
	if r.Data.MessageSeq != 2 {
		t.Fatalf("HTTP send got seq %d, want 2", r.Data.MessageSeq)
	}
	next[*proto.Recv](t, a, "RECV of the HTTP send")
	next[*proto.Recv](t, b, "RECV of the HTTP send on the sender's own connection")

	p.signal(syscall.SIGTERM)
	for _, c := range []struct {
		name string
		cl   interface {
			Next(time.Time) (proto.Packet, error)
		}
	}{{"term-a", a}, {"term-b", b}} {
		pk, err := c.cl.Next(time.Now().Add(10 * time.Second))
		if _, ok := pk.(*proto.Disconnect); !ok {
			t.Fatalf("%s on SIGTERM: %T %+v, %v; want DISCONNECT", c.name, pk, pk, err)
		}
		if _, err := c.cl.Next(time.Now().Add(10 * time.Second)); !errors.Is(err, io.EOF) {
			t.Fatalf("%s after DISCONNECT: %v; want EOF", c.name, err)
		}
	}
	if code := p.wait(20 * time.Second); code != 0 {
		t.Fatalf("exit status %d after SIGTERM, want 0", code)
	}
	var order []string
	for _, l := range p.LogLines("component stopped") {
		order = append(order, fmt.Sprint(l["component"]))
	}
	if strings.Join(order, ",") != "http,core" || len(p.LogLines("stopped")) != 1 {
		t.Fatalf("stop order %v (want http,core) and a final \"stopped\" line:\n%s", order, p.Logs())
	}

	q := startNode(t, nodeOpts{dataDir: dir})
	hist := q.history("term-a", "term-b", 1)
	if len(hist) != 2 || string(hist[0].Payload) != "before the stop" || string(hist[1].Payload) != "via http" ||
		hist[1].MessageSeq != 2 {
		t.Fatalf("history after restart: %+v", hist)
	}
	// And the restarted node serves clients.
	c, d := dialTCP(t, q, "term-a"), dialTCP(t, q, "term-b")
	exchange(t, c, d, "term-a", "term-b", "after the restart", 3)
}

// TestStartFailureNamesTheComponentAndAddress: a port already taken stops
// what was started, exits 1 and says which component could not listen
// where.
func TestStartFailureNamesTheComponentAndAddress(t *testing.T) {
	for _, c := range []struct {
		component string // named in the error
		step      string // the start-up step that failed
		opts      func(addr string) nodeOpts
		stopped   string // the steps rolled back
	}{
		{"http", "http", func(addr string) nodeOpts { return nodeOpts{httpAddr: addr} }, "core"},
		{"tcp", "core", func(addr string) nodeOpts { return nodeOpts{tcpAddr: addr} }, ""},
	} {
		t.Run(c.component, func(t *testing.T) {
			taken, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer taken.Close()
			addr := taken.Addr().String()
			p := launch(t, c.opts(addr))
			if code := p.wait(20 * time.Second); code != 1 {
				t.Fatalf("exit status %d, want 1:\n%s", code, p.Logs())
			}
			want := fmt.Sprintf("%s: listen %s: address already in use", c.component, addr)
			if !strings.Contains(p.Logs(), "jindou: "+want) {
				t.Fatalf("stderr does not say %q:\n%s", want, p.Logs())
			}
			var stopped []string
			for _, l := range p.LogLines("component stopped") {
				stopped = append(stopped, fmt.Sprint(l["component"]))
			}
			if strings.Join(stopped, ",") != c.stopped {
				t.Fatalf("rolled back %v, want [%s]", stopped, c.stopped)
			}
			failed := p.LogLines("component failed to start")
			if len(failed) != 1 || failed[0]["component"] != c.step {
				b, _ := json.Marshal(failed)
				t.Fatalf("failure log %s; want component %s", b, c.step)
			}
		})
	}
}

// TestSecondNodeOnTheSameDataDirIsRefused: the store's lock keeps a second
// process off a data dir in use; the first goes on serving.
func TestSecondNodeOnTheSameDataDirIsRefused(t *testing.T) {
	dir := t.TempDir()
	p := startNode(t, nodeOpts{dataDir: dir})
	q := launch(t, nodeOpts{dataDir: dir})
	if code := q.wait(20 * time.Second); code != 1 {
		t.Fatalf("second process: exit status %d, want 1:\n%s", code, q.Logs())
	}
	if want := "is another jindou running on this data dir?"; !strings.Contains(q.Logs(), "jindou: core: ") || !strings.Contains(q.Logs(), want) {
		t.Fatalf("second process does not say the core failed and %q:\n%s", want, q.Logs())
	}
	a, b := dialTCP(t, p, "lock-a"), dialTCP(t, p, "lock-b")
	exchange(t, a, b, "lock-a", "lock-b", "the first node serves on", 1)
}
