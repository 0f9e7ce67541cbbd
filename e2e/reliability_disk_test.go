package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jindou-im/jindou/node/proto"
)

// A full disk against the real binary, on a tmpfs small enough to fill
// (mounting needs root; the test is skipped, saying so, only when the
// mount fails). The in-process test in reliability_disk_inproc_test.go
// checks the same promises on a file system that lies about its space, so
// they are checked where mounting is not possible too.

// diskReserveMB is the reserve the tests run with: small, so that the
// tmpfs need not be big.
const diskReserveMB = 16

// mountSmallFS mounts a tmpfs of sizeMB MiB and returns its directory.
func mountSmallFS(t *testing.T, sizeMB int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "small")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%dm", sizeMB), "tmpfs", dir).CombinedOutput()
	if err != nil {
		t.Skipf("cannot mount a small tmpfs to fill (needs root): %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// availBytes is the free space of the file system holding dir.
func availBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return int64(st.Bavail) * st.Bsize
}

// fillDisk writes a ballast file into dir until the file system has at
// most leave bytes free (0: until it says ENOSPC), and returns its path.
func fillDisk(t *testing.T, dir string, leave int64) string {
	t.Helper()
	path := filepath.Join(dir, "ballast")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 1<<20)
	for {
		n := availBytes(t, dir) - leave
		if n <= 0 {
			return path
		}
		if _, err := f.Write(chunk[:min(int64(len(chunk)), n)]); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return path
			}
			t.Fatal(err)
		}
	}
}

// sendOutcome is what one POST /message/send got.
type sendOutcome struct {
	status int
	seq    uint64
	msg    string // the error envelope's msg
	err    error  // no answer (a timeout)
}

func (o sendOutcome) refusedForDisk() bool {
	return o.status == http.StatusServiceUnavailable && strings.Contains(o.msg, "disk full")
}

// trySend sends one message to group with client_msg_no no.
func (p *proc) trySend(group, no string, timeout time.Duration) sendOutcome {
	b, _ := json.Marshal(map[string]any{"from_uid": "disk-w", "channel_id": group, "channel_type": 2,
		"client_msg_no": no, "payload": []byte("payload of " + no)})
	c := http.Client{Timeout: timeout}
	resp, err := c.Post(p.HTTP+"/message/send", "application/json", bytes.NewReader(b))
	if err != nil {
		return sendOutcome{err: err}
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	var env struct {
		Msg  string `json:"msg"`
		Data struct {
			MessageSeq uint64 `json:"message_seq"`
		} `json:"data"`
	}
	if err := json.Unmarshal(rb, &env); err != nil {
		return sendOutcome{status: resp.StatusCode, err: fmt.Errorf("not JSON: %q", rb)}
	}
	return sendOutcome{status: resp.StatusCode, seq: env.Data.MessageSeq, msg: env.Msg}
}

// readyz is /readyz's status and body.
func (p *proc) readyz(t *testing.T) (int, string) {
	t.Helper()
	resp, err := http.Get(p.HTTP + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// diskLedger is what the sends of a test were answered.
type diskLedger struct {
	mu      sync.Mutex
	acked   map[string]uint64 // client_msg_no -> seq; guarded by mu
	refused map[string]bool   // guarded by mu
	n       int               // guarded by mu
}

func newDiskLedger() *diskLedger {
	return &diskLedger{acked: map[string]uint64{}, refused: map[string]bool{}}
}

// send sends one message and records its outcome.
func (l *diskLedger) send(t *testing.T, p *proc, group string, timeout time.Duration) sendOutcome {
	t.Helper()
	l.mu.Lock()
	l.n++
	no := fmt.Sprintf("m%d", l.n)
	l.mu.Unlock()
	o := p.trySend(group, no, timeout)
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case o.status == http.StatusOK && o.seq > 0:
		l.acked[no] = o.seq
	case o.refusedForDisk():
		l.refused[no] = true
	case o.err == nil && o.status != http.StatusServiceUnavailable:
		t.Errorf("send %s answered %d %q", no, o.status, o.msg) // Errorf: senders run concurrently
	}
	// Else no answer in time, or a 503 for a timeout: the outcome is
	// unknown (a send whose commit waited for the disk may be stored).
	// Its client_msg_no is not reused.
	return o
}

// awaitRefusals sends to group on a full disk until n sends were refused
// with 503 and a disk-full body (within 20 s), and returns n. Sends may
// first wait (a slot loop finds the disk full at its first commit).
func (l *diskLedger) awaitRefusals(t *testing.T, p *proc, group string, n int) int {
	t.Helper()
	refused := 0
	for deadline := time.Now().Add(20 * time.Second); refused < n && time.Now().Before(deadline); {
		if l.send(t, p, group, 5*time.Second).refusedForDisk() {
			refused++
		}
	}
	if refused < n {
		l.mu.Lock()
		defer l.mu.Unlock()
		t.Fatalf("on a full disk %d sends were refused with 503 and a disk-full body in 20 s (acked %d)", refused, len(l.acked))
	}
	return refused
}

// awaitWritable, called as space returns, sends to group until a send is
// acknowledged (within 5 s), then wants /readyz ready.
func (l *diskLedger) awaitWritable(t *testing.T, p *proc, group string) {
	t.Helper()
	freed := time.Now()
	for o := l.send(t, p, group, 5*time.Second); o.status != http.StatusOK; o = l.send(t, p, group, 5*time.Second) {
		if time.Since(freed) > 5*time.Second {
			t.Fatalf("5 s after space returned sends are still refused: %+v", o)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("space returned: sends acknowledged again after %v", time.Since(freed).Round(time.Millisecond))
	if code, body := p.readyz(t); code != http.StatusOK {
		t.Fatalf("/readyz after space returned: %d %s", code, body)
	}
}

// check reads the group's log: every acknowledged send at its seq, no
// refused one stored, no gap.
func (l *diskLedger) check(t *testing.T, p *proc, group string) {
	t.Helper()
	hist := p.history("disk-w", group, 2)
	stored := map[string]uint64{}
	for i, m := range hist {
		if m.MessageSeq != uint64(i+1) {
			t.Fatalf("history[%d] has seq %d: a gap", i, m.MessageSeq)
		}
		stored[m.ClientMsgNo] = m.MessageSeq
	}
	for no, seq := range l.acked {
		if stored[no] != seq {
			t.Errorf("acknowledged send %s at seq %d: stored at %d", no, seq, stored[no])
		}
	}
	for no := range l.refused {
		if _, ok := stored[no]; ok {
			t.Errorf("send %s was refused for a full disk, yet stored", no)
		}
	}
}

// TestFullDiskRefusesWritesServesReadsAndRecoversWithoutARestart fills the
// data dir's file system to the last byte under a node taking sends: the
// sends are refused with 503 and a JSON body (a WKProto SEND with reason
// 15), reads answer throughout, /readyz says why it is not ready, a few
// lines are logged rather than one per write; once the ballast is removed
// the node takes sends again within seconds, without a restart, and
// nothing acknowledged is lost.
func TestFullDiskRefusesWritesServesReadsAndRecoversWithoutARestart(t *testing.T) {
	dir := mountSmallFS(t, 192)
	p := startNode(t, nodeOpts{dataDir: filepath.Join(dir, "data"),
		env: []string{fmt.Sprintf("JINDOU_DISK_RESERVE_MB=%d", diskReserveMB), "JINDOU_REQUEST_TIMEOUT=3s"}})
	const group = "disk-group"
	p.mustPost("/channel", map[string]any{"channel_id": group, "channel_type": 2, "subscribers": []string{"disk-w", "disk-a"}}, nil)
	a := dialTCPAt(t, p.TCP, "disk-a")
	defer a.Close()
	l := newDiskLedger()
	for range 50 {
		if o := l.send(t, p, group, 5*time.Second); o.status != http.StatusOK {
			t.Fatalf("before the disk filled: %+v", o)
		}
	}

	// The disk fills at once while senders keep the node busy: the fill
	// races with the writes in flight (see the reactor's ballast).
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
					l.send(t, p, group, 5*time.Second)
				}
			}
		})
	}
	time.Sleep(200 * time.Millisecond)
	ballast := fillDisk(t, dir, 0)
	t.Logf("filled: %d bytes free", availBytes(t, dir))
	refusals := l.awaitRefusals(t, p, group, 20)
	close(stop)
	wg.Wait()
	if _, err := a.Send(group, proto.ChannelGroup, "wire-1", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if ack := nextSendack(t, a); ack.ReasonCode != proto.ReasonSystemError {
		t.Fatalf("a WKProto SEND on a full disk: reason %d, want %d", ack.ReasonCode, proto.ReasonSystemError)
	}
	if code, body := p.readyz(t); code != http.StatusServiceUnavailable || !strings.Contains(body, "disk full") {
		t.Fatalf("/readyz on a full disk: %d %s", code, body)
	}
	l.check(t, p, group) // reads answer on the full disk
	if n := len(p.LogLines("disk full: refusing writes until space returns")); n < 1 || n > 2 {
		t.Fatalf("%d episode lines for %d refusals, want one per slot loop that found the disk full", n, refusals)
	}
	for _, f := range p.LogLines("http: request failed") {
		if strings.Contains(fmt.Sprint(f["error"]), "disk full") {
			t.Fatalf("a refusal for the full disk was logged by the HTTP layer (want only the node's line per episode): %v", f)
		}
	}

	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	l.awaitWritable(t, p, group)
	for range 20 {
		if o := l.send(t, p, group, 5*time.Second); o.status != http.StatusOK {
			t.Fatalf("after space returned: %+v", o)
		}
	}
	if len(p.LogLines("disk writable again: accepting writes")) == 0 {
		t.Fatal("the end of the episode was not logged")
	}
	l.check(t, p, group)
	t.Logf("%d sends: %d acknowledged, %d refused for the full disk, all acknowledged ones stored", l.n, len(l.acked), len(l.refused))
}

// nextSendack is c's next SENDACK.
func nextSendack(t *testing.T, c interface {
	Next(time.Time) (proto.Packet, error)
}) *proto.Sendack {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		pk, err := c.Next(deadline)
		if err != nil {
			t.Fatalf("waiting for a SENDACK: %v", err)
		}
		if ack, ok := pk.(*proto.Sendack); ok {
			return ack
		}
	}
}

// TestStartOnAFullDiskExitsWithAClearMessage: a node started on a data dir
// with less than its reserve free exits at once, non-zero, saying why and
// what to do, instead of coming up half; started again once there is
// room, it has everything it had acknowledged.
func TestStartOnAFullDiskExitsWithAClearMessage(t *testing.T) {
	dir := mountSmallFS(t, 192)
	o := nodeOpts{dataDir: filepath.Join(dir, "data"), env: []string{fmt.Sprintf("JINDOU_DISK_RESERVE_MB=%d", diskReserveMB)}}
	p := startNode(t, o)
	const group = "disk-start"
	p.mustPost("/channel", map[string]any{"channel_id": group, "channel_type": 2, "subscribers": []string{"disk-w"}}, nil)
	l := newDiskLedger()
	for range 10 {
		l.send(t, p, group, 5*time.Second)
	}
	p.signal(syscall.SIGTERM)
	if code := p.wait(15 * time.Second); code != 0 {
		t.Fatalf("SIGTERM: exit %d", code)
	}

	ballast := fillDisk(t, dir, 0)
	q := launch(t, o)
	if code := q.wait(15 * time.Second); code == 0 {
		t.Fatalf("started on a full disk and exited 0:\n%s", q.Logs())
	}
	for _, want := range []string{"will not start", "disk full", "free some space"} {
		if !strings.Contains(q.Logs(), want) {
			t.Errorf("the exit message does not say %q:\n%s", want, q.Logs())
		}
	}

	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	r := startNode(t, o)
	l.check(t, r, group)
}
