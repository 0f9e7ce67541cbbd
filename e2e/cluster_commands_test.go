package e2e

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestClusterStatusPrintsTheMembersAndEverySlot: `jindou cluster status`
// against one member prints every member with its link and addresses and
// one row per slot with the applied index of all three replicas.
func TestClusterStatusPrintsTheMembersAndEverySlot(t *testing.T) {
	c := startCluster(t, clusterOpts{nodes: 3, slots: 8})
	out, err := exec.Command(jindouBin, "cluster", "status", "--url", c.node(1).HTTP).CombinedOutput()
	if err != nil {
		t.Fatalf("cluster status: %v\n%s", err, out)
	}
	text := string(out)
	for i := range 3 {
		if !strings.Contains(text, c.node(i).TCP) || !strings.Contains(text, c.node(i).HTTP) {
			t.Fatalf("node %d's addresses missing:\n%s", i+1, text)
		}
	}
	if strings.Count(text, " self ") != 1 || strings.Count(text, " up ") != 2 {
		t.Fatalf("want one self and two up links:\n%s", text)
	}
	rows := 0
	for _, line := range strings.Split(text, "\n") {
		if f := strings.Fields(line); len(f) >= 7 && strings.HasPrefix(f[2], "[") && !strings.Contains(line, "?") {
			rows++
		}
	}
	if rows != 8 {
		t.Fatalf("%d slot rows with every replica's applied index, want 8:\n%s", rows, text)
	}
}

// TestDevClusterStartsThreeNodesAndStopsThemOnInterrupt: `jindou dev
// cluster` starts three nodes that become ready at the printed addresses;
// SIGINT stops all of them and it exits 0.
func TestDevClusterStartsThreeNodesAndStopsThemOnInterrupt(t *testing.T) {
	// Below the kernel's ephemeral ports (32768 and up), away from the
	// default ones.
	shift := 1000 + os.Getpid()%15000
	dir := filepath.Join(t.TempDir(), "cluster")
	t.Cleanup(func() {
		if t.Failed() {
			for i := 1; i <= 3; i++ {
				raw, _ := os.ReadFile(filepath.Join(dir, fmt.Sprintf("node%d.log", i)))
				t.Logf("node %d log:\n%s", i, raw)
			}
		}
	})
	cmd := exec.Command(jindouBin, "dev", "cluster", "--port-shift", fmt.Sprint(shift), "--dir", dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	sc := bufio.NewScanner(stdout)
	var https []string
	for len(https) < 3 && sc.Scan() {
		f := strings.Fields(sc.Text())
		for i, w := range f {
			if w == "http" && i+1 < len(f) {
				https = append(https, f[i+1])
			}
		}
	}
	if len(https) != 3 {
		t.Fatalf("dev cluster printed %d HTTP addresses", len(https))
	}
	for _, h := range https {
		waitFor(t, 60*time.Second, h+" ready", func() bool {
			resp, err := http.Get(h + "/readyz")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		})
	}
	go func() {
		for sc.Scan() {
		}
	}()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("dev cluster after SIGINT: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("dev cluster did not stop within 30 s of SIGINT")
	}
	for _, h := range https {
		if resp, err := http.Get(h + "/healthz"); err == nil {
			resp.Body.Close()
			t.Fatalf("%s still answers after the stop", h)
		}
	}
	for i := 1; i <= 3; i++ {
		if raw, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("node%d.log", i))); err != nil || !strings.Contains(string(raw), "msg=stopped") {
			t.Fatalf("node %d's log does not end with a graceful stop (%v):\n%s", i, err, raw)
		}
	}
}
