package e2e

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/wkclient"
)

// A SIGTERM under load, on the real binary: every SEND gets a SENDACK;
// every SENDACK with a seq is stored (found after a restart, with that seq);
// every refused SEND was truly not stored. E2E_STOP_CYCLES sets how
// many stop-and-restart cycles run (default 1):
//
//	E2E_STOP_CYCLES=10 go test ./e2e -run TestASIGTERMUnderLoadAnswersEverySendWithItsRealOutcome -v

const stopSenders = 8

// stopSender is one connection sending to its own person channel, with up
// to stopWindow SENDs in flight.
type stopSender struct {
	uid, to string
	c       *wkclient.NetClient
	mu      sync.Mutex
	sent    map[uint32]string // client_seq → client_msg_no, until answered
	acks    map[string]*proto.Sendack
	discon  bool
}

const stopWindow = 64

func TestASIGTERMUnderLoadAnswersEverySendWithItsRealOutcome(t *testing.T) {
	cycles := 1
	if v, err := strconv.Atoi(os.Getenv("E2E_STOP_CYCLES")); err == nil && v > 0 {
		cycles = v
	}
	dir := t.TempDir()
	for cycle := range cycles {
		p := startNode(t, nodeOpts{dataDir: dir})
		var senders []*stopSender
		var wg sync.WaitGroup
		for i := range stopSenders {
			s := &stopSender{uid: fmt.Sprintf("s%d", i), to: fmt.Sprintf("r%d", i), sent: map[uint32]string{}, acks: map[string]*proto.Sendack{}}
			c, err := wkclient.DialTCP(p.TCP, wkclient.Options{UID: s.uid, DeviceFlag: proto.DeviceApp})
			if err != nil {
				t.Fatal(err)
			}
			s.c = c
			senders = append(senders, s)
			wg.Add(1)
			go func() { defer wg.Done(); s.run(cycle) }()
		}
		time.Sleep(1500 * time.Millisecond)
		p.signal(syscall.SIGTERM)
		if code := p.wait(30 * time.Second); code != 0 {
			t.Fatalf("cycle %d: exit code %d after SIGTERM", cycle, code)
		}
		wg.Wait()
		p = startNode(t, nodeOpts{dataDir: dir})
		var acked, refused int
		for _, s := range senders {
			a, r := s.check(t, p, cycle)
			acked, refused = acked+a, refused+r
		}
		t.Logf("cycle %d: %d SENDs stored and acknowledged with their seq, %d refused and not stored", cycle, acked, refused)
		if acked == 0 || refused == 0 {
			t.Errorf("cycle %d: %d acknowledged, %d refused: the stop did not come under load", cycle, acked, refused)
		}
		p.signal(syscall.SIGTERM)
		p.wait(30 * time.Second)
	}
}

// run sends until the server says DISCONNECT or closes, reading the
// SENDACKs; after the DISCONNECT it waits for the answers still owed,
// then closes.
func (s *stopSender) run(cycle int) {
	window := make(chan struct{}, stopWindow)
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		for {
			pk, err := s.c.Next(time.Now().Add(20 * time.Second))
			if err != nil {
				return
			}
			switch pk := pk.(type) {
			case *proto.Sendack:
				s.mu.Lock()
				if cmn, ok := s.sent[pk.ClientSeq]; ok {
					s.acks[cmn] = pk
					delete(s.sent, pk.ClientSeq)
					<-window
				}
				s.mu.Unlock()
			case *proto.Disconnect:
				s.mu.Lock()
				s.discon = true
				s.mu.Unlock()
			}
		}
	}()
	for n := 0; ; n++ {
		s.mu.Lock()
		stop := s.discon
		s.mu.Unlock()
		if stop {
			break
		}
		select {
		case window <- struct{}{}:
		case <-readDone:
			return
		}
		cmn := fmt.Sprintf("%s-c%d-%d", s.uid, cycle, n)
		s.mu.Lock()
		seq, err := s.c.Send(s.to, proto.ChannelPerson, cmn, []byte("m"))
		if err == nil {
			s.sent[seq] = cmn
		}
		s.mu.Unlock()
		if err != nil {
			break
		}
	}
	// The answers to what was sent before the DISCONNECT was read.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		left := len(s.sent)
		s.mu.Unlock()
		if left == 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	s.c.Close()
	<-readDone
}

// check compares the sender's answers with the stored history.
func (s *stopSender) check(t *testing.T, p *proc, cycle int) (acked, refused int) {
	t.Helper()
	if len(s.sent) > 0 {
		t.Errorf("cycle %d: %s got no SENDACK for %d SENDs", cycle, s.uid, len(s.sent))
	}
	stored := map[string]message{}
	for _, m := range p.history(s.uid, s.to, uint8(proto.ChannelPerson)) {
		stored[m.ClientMsgNo] = m
	}
	for cmn, ack := range s.acks {
		m, ok := stored[cmn]
		switch {
		case ack.ReasonCode == proto.ReasonSuccess && (!ok || m.MessageSeq != ack.MessageSeq):
			t.Errorf("cycle %d: %s acknowledged with seq %d, stored: %v %+v", cycle, cmn, ack.MessageSeq, ok, m)
		case ack.ReasonCode == proto.ReasonSuccess:
			acked++
		case ok:
			t.Errorf("cycle %d: %s refused (reason %d) but stored with seq %d", cycle, cmn, ack.ReasonCode, m.MessageSeq)
		default:
			refused++
		}
	}
	return acked, refused
}
