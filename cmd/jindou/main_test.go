package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestVersionPrintsTheVersion(t *testing.T) {
	cmd := rootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"version"})
	if err := cmd.Execute(); err != nil || !strings.HasPrefix(out.String(), "jindou ") {
		t.Fatalf("version: %q, %v", out.String(), err)
	}
}

func TestRunRefusesABadConfigurationBeforeStartingAnything(t *testing.T) {
	cmd := rootCmd()
	cmd.SetArgs([]string{"run", "--http-addr", "localhost:99999"})
	err := cmd.Execute()
	if err == nil || !strings.Contains(err.Error(), "http_addr") || !strings.Contains(err.Error(), "99999") {
		t.Fatalf("run with a bad port: %v; want an error naming http_addr and the port", err)
	}
}
