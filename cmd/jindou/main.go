// Command jindou is the Jindou instant-messaging server.
//
// Today it offers `jindou version` and `jindou run`; run refuses to pretend:
// the node and the production runtime that serve clients are later issues.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// errNotServing is what `jindou run` says until the server exists.
var errNotServing = errors.New("serving is not available yet: this build has the runtime boundary and the simulator, " +
	"but not the node core or the production runtime (see docs/ARCHITECTURE.md, \"Status\")")

func main() {
	if err := rootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "jindou:", err)
		os.Exit(1)
	}
}

func rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "jindou",
		Short:         "Jindou, a WuKongIM-compatible instant-messaging server",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(&cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), "jindou", version)
		},
	})
	run := &cobra.Command{
		Use:   "run",
		Short: "Run a node with embedded defaults",
		RunE: func(*cobra.Command, []string) error {
			return errNotServing
		},
	}
	run.Flags().String("data-dir", "./jindou-data", "directory for the node's data")
	root.AddCommand(run)
	return root
}
