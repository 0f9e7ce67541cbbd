package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	jhttp "github.com/jindou-im/jindou/http"
	"github.com/jindou-im/jindou/node"
)

// clusterStatusTimeout bounds each HTTP request of `cluster status`.
const clusterStatusTimeout = 5 * time.Second

func clusterCmd() *cobra.Command {
	c := &cobra.Command{Use: "cluster", Short: "Look at a running cluster, remove a member"}
	var url, token string
	status := &cobra.Command{
		Use:   "status",
		Short: "Print the members (link, addresses, slots led) and every slot (leader, replicas, term, applied, log) from /cluster/*",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return clusterStatus(cmd.OutOrStdout(), &http.Client{Timeout: clusterStatusTimeout}, strings.TrimRight(url, "/"), token)
		},
	}
	status.Flags().StringVar(&url, "url", "http://127.0.0.1:5001", "the HTTP API of any member")
	status.Flags().StringVar(&token, "manager-token", "", "the members' manager_token, if set")
	c.AddCommand(status, removeCmd()) // cluster_remove.go
	return c
}

type nodesBody struct {
	NodeID uint64              `json:"node_id"`
	Nodes  []jhttp.ClusterNode `json:"nodes"`
}

type slotsBody struct {
	NodeID uint64          `json:"node_id"`
	Slots  []node.SlotInfo `json:"slots"`
}

// clusterStatus asks url's node for the members, then every member that is
// up for its view of the slots, and prints two tables. A member that does
// not answer is shown as such; its replicas' columns stay empty.
func clusterStatus(w io.Writer, c *http.Client, url, token string) error {
	var nb nodesBody
	if err := getJSON(c, url+"/cluster/nodes", token, &nb); err != nil {
		return err
	}
	views := map[uint64][]node.SlotInfo{}
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tLINK\tLEADS\tTCP\tWS\tHTTP\tPEER\t")
	for _, n := range nb.Nodes {
		link := "down"
		switch {
		case n.Self:
			link = "self"
		case n.Up:
			link = "up"
		}
		if n.Status == "removed" {
			link += " (removed)"
		}
		if n.HTTPAddr != "" && (n.Up || n.Self) {
			var sb slotsBody
			if err := getJSON(c, n.HTTPAddr+"/cluster/slots", token, &sb); err != nil {
				link += " (no answer: " + err.Error() + ")"
			} else {
				views[n.ID] = sb.Slots
			}
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\t%s\t%s\t\n", n.ID, link, n.LeaderSlots, n.TCPAddr, n.WSAddr, n.HTTPAddr, n.PeerAddr)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	return printSlots(w, nb.NodeID, views)
}

// printSlots prints one row per slot: the leader (as the asked node sees
// it), the replicas and, for each replica that answered, term, applied
// index and log entries.
func printSlots(w io.Writer, asked uint64, views map[uint64][]node.SlotInfo) error {
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "SLOT\tLEADER\tREPLICAS\tTERM\tAPPLIED (node:index)\tLOG ENTRIES (leader)\t")
	for i, base := range views[asked] {
		var applied []string
		var term, logEntries uint64
		for _, r := range base.Replicas {
			v, ok := views[r]
			if !ok || i >= len(v) {
				applied = append(applied, fmt.Sprintf("%d:?", r))
				continue
			}
			applied = append(applied, fmt.Sprintf("%d:%d", r, v[i].Applied))
			if r == base.Leader {
				term, logEntries = v[i].Term, v[i].LogEntries
			}
		}
		fmt.Fprintf(tw, "%d\t%d\t%v\t%d\t%s\t%d\t\n", base.Slot, base.Leader, base.Replicas, term, strings.Join(applied, " "), logEntries)
	}
	return tw.Flush()
}

func getJSON(c *http.Client, url, token string, into any) error {
	return doJSON(c, http.MethodGet, url, token, nil, into)
}

// doJSON sends a request with a JSON body (nil: none) and reads the JSON
// answer into into; any status but 200 is an error carrying the body.
func doJSON(c *http.Client, method, url, token string, body []byte, into any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("token", token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s: %s", url, resp.Status, strings.TrimSpace(string(raw)))
	}
	return json.Unmarshal(raw, into)
}
