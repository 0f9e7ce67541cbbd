package main

import (
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

func runCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run a node (embedded defaults, a YAML file, JINDOU_* variables, flags)",
		Long: "Run a node until SIGINT or SIGTERM, then stop it gracefully.\n\n" +
			"Configuration, highest precedence first: flags, JINDOU_<KEY> environment variables,\n" +
			"the YAML file given by --config, the embedded defaults. Keys:\n\n" + configHelp(),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, _ := cmd.Flags().GetString("config")
			cfg, err := loadConfig(path, os.Environ(), cmd.Flags())
			if err != nil {
				return err
			}
			log, err := newLogger(os.Stderr, cfg.LogFormat, cfg.LogLevel)
			if err != nil {
				return err
			}
			return serve(cfg, log)
		},
	}
	cmd.Flags().String("config", "", "YAML configuration file")
	addFlags(cmd.Flags())
	return cmd
}

// serve runs the node until SIGINT or SIGTERM, then stops it gracefully.
// A second signal during the stop is logged and does not abort it (an
// orchestrator often sends two); a third one exits at once, also logged.
func serve(cfg Config, log *slog.Logger) error {
	sigs := make(chan os.Signal, signalsToForce)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	log.Info("starting", "version", version, "pid", os.Getpid())
	s := newServer(cfg, log)
	if err := s.start(); err != nil {
		return err
	}
	sig := <-sigs
	log.Info("stopping", "signal", sig.String())
	stopped := make(chan struct{})
	go func() {
		s.stop(sig.String())
		close(stopped)
	}()
	for n := 2; ; n++ {
		select {
		case <-stopped:
			log.Info("stopped")
			return nil
		case sig := <-sigs:
			if n < signalsToForce {
				log.Warn("signal during the graceful stop: still stopping (one more forces an exit)", "signal", sig.String(), "count", n)
				continue
			}
			log.Error("signal during the graceful stop: exiting now, without finishing the stop", "signal", sig.String(), "count", n)
			return fmt.Errorf("forced to exit while stopping (%s, signal %d)", sig, n)
		}
	}
}

// signalsToForce is the signal that ends a graceful stop at once (the
// first one starts it).
const signalsToForce = 3

// configHelp lists every key with its default.
func configHelp() string {
	var b strings.Builder
	def := defaultConfig()
	for _, f := range def.fields() {
		if v := valueString(f.ptr); v != "" {
			fmt.Fprintf(&b, "  %-18s %s (default %s)\n", f.key, f.help, v)
		} else {
			fmt.Fprintf(&b, "  %-18s %s\n", f.key, f.help)
		}
	}
	return b.String()
}
