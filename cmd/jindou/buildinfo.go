package main

import (
	"runtime/debug"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// build is what the binary knows of its own build: the version set with
// -ldflags (make build: git describe), else the module's, and the commit
// and Go version from the build info.
type build struct {
	Version, Commit, GoVersion string
	Modified                   bool
}

func readBuild() build {
	b := build{Version: version}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	b.GoVersion = info.GoVersion
	if b.Version == "dev" && info.Main.Version != "" && info.Main.Version != "(devel)" {
		b.Version = info.Main.Version
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Commit = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}

// buildVersion is `jindou version`'s line after "jindou ": the version,
// the commit (12 digits, "+dirty" when modified) and the Go version.
func buildVersion() string {
	b := readBuild()
	parts := []string{b.Version}
	if b.Commit != "" {
		c := b.Commit[:min(12, len(b.Commit))]
		if b.Modified {
			c += "+dirty"
		}
		parts = append(parts, "commit "+c)
	}
	if b.GoVersion != "" {
		parts = append(parts, b.GoVersion)
	}
	return strings.Join(parts, ", ")
}

// buildInfoGauge is jindou_build_info: always 1, the build in its labels,
// as Prometheus exporters conventionally do.
func buildInfoGauge() prometheus.Collector {
	b := readBuild()
	g := prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "jindou", Name: "build_info",
		Help:        "Always 1; the labels say which build of jindou runs.",
		ConstLabels: prometheus.Labels{"version": b.Version, "commit": b.Commit, "goversion": b.GoVersion}})
	g.Set(1)
	return g
}
