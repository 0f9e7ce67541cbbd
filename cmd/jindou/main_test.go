package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRunSaysItDoesNotServeYet(t *testing.T) {
	cmd := rootCmd()
	cmd.SetArgs([]string{"run"})
	err := cmd.Execute()
	if err == nil || !strings.Contains(err.Error(), "not available yet") {
		t.Fatalf("jindou run returned %v; it must not pretend to serve", err)
	}
}

func TestVersionPrintsTheVersion(t *testing.T) {
	cmd := rootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"version"})
	if err := cmd.Execute(); err != nil || !strings.HasPrefix(out.String(), "jindou ") {
		t.Fatalf("version: %q, %v", out.String(), err)
	}
}
