package e2e

import (
	"os/exec"
	"strings"
	"testing"
)

// TestBenchToolRunsAgainstANode keeps `jindou bench` working: small
// connect, send (person and group) and idle runs against a node succeed and
// report what they counted. It asserts no timing.
func TestBenchToolRunsAgainstANode(t *testing.T) {
	p := startNode(t, nodeOpts{})
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"connect", "-n", "40", "-c", "4"}, "40 handshakes (0 failed)"},
		{[]string{"connect", "-n", "20", "-c", "4", "--ws", p.WS}, "20 handshakes (0 failed)"},
		{[]string{"send", "-m", "4", "-n", "25", "-w", "4", "--mode", "person"}, "100 acked with a seq (0 refused)"},
		{[]string{"send", "-m", "3", "-n", "20", "-w", "2", "--mode", "group"}, "60 acked with a seq (0 refused)"},
		{[]string{"idle", "-n", "50", "--settle", "0s"}, "50 connections logged in (0 failed)"},
	} {
		args := append([]string{"bench", "--tcp", p.TCP, "--http", p.HTTP, "--timeout", "60s"}, c.args...)
		out, err := exec.Command(jindouBin, args...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), c.want) {
			t.Fatalf("jindou %s: %v\n%s\nwant %q", strings.Join(args, " "), err, out, c.want)
		}
		t.Logf("jindou %s\n%s", strings.Join(c.args, " "), strings.TrimSpace(string(out)))
	}
}
