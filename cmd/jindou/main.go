// Command jindou is the Jindou instant-messaging server.
//
//	jindou run [--config FILE] [--data-dir DIR] [--log-format json] ...
//	jindou version
//	jindou bench connect|send|fanout|idle|all ...
//	jindou cluster status --url http://<any member>:5001
//	jindou dev cluster      (three local nodes, `make cluster`)
//
// `jindou run` serves one node: WKProto over TCP (default 0.0.0.0:5100)
// and WebSocket (0.0.0.0:5200), the HTTP API (0.0.0.0:5001), data in
// ./jindou-data. Configuration: flags > JINDOU_* environment > the YAML
// file named by --config > embedded defaults (config.go lists every key).
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

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
		Version:       buildVersion(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate("jindou {{.Version}}\n")
	root.AddCommand(&cobra.Command{
		Use:   "version",
		Short: "Print the version, the commit and the Go version it was built from",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), "jindou", buildVersion())
		},
	})
	root.AddCommand(runCmd(), benchCmd(), configCmd(), healthcheckCmd(), clusterCmd(), devCmd())
	return root
}
