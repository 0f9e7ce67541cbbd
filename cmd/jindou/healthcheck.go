package main

import (
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/spf13/cobra"
)

// healthcheckTimeoutDefault bounds a probe.
const healthcheckTimeoutDefault = 3 * time.Second

// healthcheckCmd probes a node's /readyz (for a container's health check:
// the image has no curl). Exit 0 when it answers 200.
func healthcheckCmd() *cobra.Command {
	var url string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "healthcheck",
		Short: "Exit 0 if the node's /readyz answers 200 (for container health checks)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			client := &http.Client{Timeout: timeout}
			resp, err := client.Get(url)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("%s: %s: %s", url, resp.Status, body)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %s", url, body)
			return nil
		},
	}
	cmd.Flags().StringVar(&url, "url", "http://127.0.0.1:5001/readyz", "the probe's URL")
	cmd.Flags().DurationVar(&timeout, "timeout", healthcheckTimeoutDefault, "give up after this long")
	return cmd
}
