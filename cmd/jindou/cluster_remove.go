package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	jhttp "github.com/jindou-im/jindou/http"
)

func removeCmd() *cobra.Command {
	var url, token string
	var wait time.Duration
	c := &cobra.Command{
		Use:   "remove NODE_ID",
		Short: "Remove a member (POST /cluster/nodes/remove), then wait until it holds no slot replica and may be stopped",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseUint(args[0], 10, 64)
			if err != nil || id == 0 {
				return fmt.Errorf("cluster remove: %q is not a node id (a number above 0)", args[0])
			}
			r := clusterRemover{c: &http.Client{Timeout: clusterStatusTimeout}, url: strings.TrimRight(url, "/"), token: token,
				out: cmd.OutOrStdout()}
			return r.remove(id, wait)
		},
	}
	c.Flags().StringVar(&url, "url", "http://127.0.0.1:5001", "the HTTP API of any member")
	c.Flags().StringVar(&token, "manager-token", "", "the members' manager_token, if set")
	c.Flags().DurationVar(&wait, "wait", 2*time.Minute, "how long to wait for the member's replicas to move away (0: do not wait)")
	return c
}

// clusterRemover removes a member through one member's HTTP API.
type clusterRemover struct {
	c          *http.Client
	url, token string
	out        io.Writer
}

// removePoll is how often remove looks at the moves.
const removePoll = 500 * time.Millisecond

func (r clusterRemover) remove(id uint64, wait time.Duration) error {
	body, _ := json.Marshal(map[string]uint64{"node_id": id})
	var ok map[string]any
	if err := doJSON(r.c, http.MethodPost, r.url+"/cluster/nodes/remove", r.token, body, &ok); err != nil {
		return fmt.Errorf("cluster remove: %w", err)
	}
	fmt.Fprintf(r.out, "node %d removed from the cluster table; its replicas move to the other members\n", id)
	if wait <= 0 {
		return nil
	}
	begin := time.Now()
	for {
		left, err := r.replicasLeft(id)
		if err == nil && left == 0 {
			fmt.Fprintf(r.out, "node %d holds no slot replica and leads nothing (%s): it may be stopped\n", id, time.Since(begin).Round(time.Millisecond))
			return nil
		}
		if time.Since(begin) > wait {
			return fmt.Errorf("cluster remove: node %d still holds %d slot replicas after %s (%v); see jindou cluster status", id, left, wait, err)
		}
		time.Sleep(removePoll)
	}
}

// replicasLeft is how many slots node id still replicates or leads: as
// the node itself says, when its HTTP API answers, else as url's member
// sees it.
func (r clusterRemover) replicasLeft(id uint64) (int, error) {
	var nb nodesBody
	if err := getJSON(r.c, r.url+"/cluster/nodes", r.token, &nb); err != nil {
		return -1, err
	}
	var sb slotsBody
	i := slices.IndexFunc(nb.Nodes, func(n jhttp.ClusterNode) bool { return n.ID == id })
	if i >= 0 && nb.Nodes[i].HTTPAddr != "" && getJSON(r.c, nb.Nodes[i].HTTPAddr+"/cluster/slots", r.token, &sb) == nil {
		n := 0
		for _, s := range sb.Slots {
			if s.Replica {
				n++
			}
		}
		return n, nil
	}
	if err := getJSON(r.c, r.url+"/cluster/slots", r.token, &sb); err != nil {
		return -1, err
	}
	n := 0
	for _, s := range sb.Slots {
		if s.Leader == id || slices.Contains(s.Replicas, id) {
			n++
		}
	}
	return n, nil
}
