package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

// devNode is one node of a local development cluster and its ports.
type devNode struct {
	id                  int
	peer, tcp, ws, http string
	dataDir, logPath    string
	cmd                 *exec.Cmd
}

// devNodes lays out n nodes on 127.0.0.1: node i has peer port
// peerBase+i-1, TCP 5110+i, WebSocket 5210+i, HTTP 5010+i (offset by
// shift), and its data dir and log under dir.
func devNodes(n, shift int, dir string) []devNode {
	out := make([]devNode, n)
	for i := range out {
		id := i + 1
		out[i] = devNode{
			id:      id,
			peer:    fmt.Sprintf("127.0.0.1:%d", 11110+shift+i),
			tcp:     fmt.Sprintf("127.0.0.1:%d", 5110+shift+id),
			ws:      fmt.Sprintf("127.0.0.1:%d", 5210+shift+id),
			http:    fmt.Sprintf("127.0.0.1:%d", 5010+shift+id),
			dataDir: filepath.Join(dir, fmt.Sprintf("node%d", id)),
			logPath: filepath.Join(dir, fmt.Sprintf("node%d.log", id)),
		}
	}
	return out
}

// env is the JINDOU_* environment that runs node d of the cluster nodes.
func (d devNode) env(nodes []devNode, token string) []string {
	var members []string
	for _, m := range nodes {
		members = append(members, fmt.Sprintf("%d@%s", m.id, m.peer))
	}
	return []string{
		fmt.Sprintf("JINDOU_NODE_ID=%d", d.id), "JINDOU_DATA_DIR=" + d.dataDir,
		"JINDOU_TCP_ADDR=" + d.tcp, "JINDOU_WS_ADDR=" + d.ws, "JINDOU_HTTP_ADDR=" + d.http,
		"JINDOU_CLUSTER_NODES=" + strings.Join(members, ","), "JINDOU_CLUSTER_TOKEN=" + token,
	}
}

func devCmd() *cobra.Command {
	dev := &cobra.Command{Use: "dev", Short: "Development helpers"}
	var n, shift int
	var dir string
	cluster := &cobra.Command{
		Use:   "cluster",
		Short: "Run a cluster of nodes on this machine until Ctrl-C (ports and data dirs printed)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDevCluster(cmd.OutOrStdout(), n, shift, dir)
		},
	}
	cluster.Flags().IntVar(&n, "nodes", 3, "how many nodes")
	cluster.Flags().IntVar(&shift, "port-shift", 0, "added to every port (to run two clusters side by side)")
	cluster.Flags().StringVar(&dir, "dir", ".cluster", "where the nodes' data dirs and logs go")
	dev.AddCommand(cluster)
	return dev
}

// runDevCluster starts the nodes as child processes of this binary, prints
// their addresses and waits for SIGINT or SIGTERM (or a node's exit), then
// stops them all with SIGTERM.
func runDevCluster(w io.Writer, n, shift int, dir string) error {
	if n < 1 || n > 9 {
		return fmt.Errorf("--nodes: %d is not in 1..9", n)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tokenBytes := make([]byte, 16)
	_, _ = rand.Read(tokenBytes)
	token := hex.EncodeToString(tokenBytes)
	nodes := devNodes(n, shift, dir)
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	exited := make(chan int, n)
	defer stopDevNodes(w, nodes)
	for i := range nodes {
		if err := nodes[i].start(self, nodes, token, exited); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "a cluster of %d nodes (data and logs in %s):\n", n, dir)
	for _, d := range nodes {
		fmt.Fprintf(w, "  node %d  tcp %s  ws ws://%s  http http://%s  peer %s  log %s\n", d.id, d.tcp, d.ws, d.http, d.peer, d.logPath)
	}
	fmt.Fprintf(w, "status: %s cluster status --url http://%s\nCtrl-C stops them all.\n", self, nodes[0].http)
	select {
	case sig := <-sigs:
		fmt.Fprintf(w, "%s: stopping every node\n", sig)
		return nil
	case id := <-exited:
		return fmt.Errorf("node %d exited (see %s); stopping the others", id, nodes[id-1].logPath)
	}
}

func (d *devNode) start(self string, nodes []devNode, token string, exited chan<- int) error {
	logf, err := os.OpenFile(d.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	d.cmd = exec.Command(self, "run")
	d.cmd.Env = append(os.Environ(), d.env(nodes, token)...)
	d.cmd.Stdout, d.cmd.Stderr = logf, logf
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // Ctrl-C reaches us, we stop them
	if err := d.cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("node %d: %w", d.id, err)
	}
	go func(c *exec.Cmd, id int) {
		_ = c.Wait()
		logf.Close()
		exited <- id
	}(d.cmd, d.id)
	return nil
}

// devStopTimeout bounds how long a node may take to stop gracefully
// before it is killed.
const devStopTimeout = 15 * time.Second

// stopDevNodes sends SIGTERM to every running node and waits for them.
func stopDevNodes(w io.Writer, nodes []devNode) {
	for _, d := range nodes {
		if d.cmd != nil && d.cmd.Process != nil {
			_ = d.cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	deadline := time.Now().Add(devStopTimeout)
	for _, d := range nodes {
		if d.cmd == nil || d.cmd.Process == nil {
			continue
		}
		for time.Now().Before(deadline) && processAlive(d.cmd.Process.Pid) {
			time.Sleep(50 * time.Millisecond)
		}
		if processAlive(d.cmd.Process.Pid) {
			fmt.Fprintf(w, "node %d did not stop in %s: killing it\n", d.id, devStopTimeout)
			_ = d.cmd.Process.Kill()
		}
	}
}

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
