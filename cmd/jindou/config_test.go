package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "jindou.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func flags(t *testing.T, args ...string) *pflag.FlagSet {
	t.Helper()
	fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
	addFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return fs
}

func TestDefaultsAreTheDocumentedOnes(t *testing.T) {
	cfg, err := loadConfig("", nil, flags(t))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.TCPAddr != "0.0.0.0:5100" || cfg.WSAddr != "0.0.0.0:5200" || cfg.HTTPAddr != "0.0.0.0:5001" ||
		cfg.DataDir != "./jindou-data" || cfg.NodeID != 1 || cfg.Slots != 64 || cfg.TokenAuth || cfg.LogFormat != "text" {
		t.Fatalf("defaults: %+v", cfg)
	}
}

func TestFlagsBeatEnvironmentBeatsFileBeatsDefaults(t *testing.T) {
	file := writeFile(t, "data_dir: /from/file\nhttp_addr: 127.0.0.1:1001\ntcp_addr: 127.0.0.1:1002\nidle_timeout: 90s\nslots: 16\n")
	env := []string{"JINDOU_HTTP_ADDR=127.0.0.1:2001", "JINDOU_DATA_DIR=/from/env", "JINDOU_TOKEN_AUTH=true",
		"PATH=/bin"}
	cfg, err := loadConfig(file, env, flags(t, "--data-dir", "/from/flag"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ got, want any }{
		{cfg.DataDir, "/from/flag"},         // flag over env over file
		{cfg.HTTPAddr, "127.0.0.1:2001"},    // env over file
		{cfg.TCPAddr, "127.0.0.1:1002"},     // file over default
		{cfg.IdleTimeout, 90 * time.Second}, // file
		{cfg.Slots, 16},                     // file
		{cfg.TokenAuth, true},               // env
		{cfg.WSAddr, "0.0.0.0:5200"},        // default
	} {
		if c.got != c.want {
			t.Errorf("got %v, want %v (config %+v)", c.got, c.want, cfg)
		}
	}
}

func TestUnknownFileKeyIsAnErrorNamingIt(t *testing.T) {
	file := writeFile(t, "http_addr: 127.0.0.1:1\ntcp_adr: 127.0.0.1:2\nwebhook:\n  url: x\n")
	_, err := loadConfig(file, nil, nil)
	if err == nil || !strings.Contains(err.Error(), `unknown key "tcp_adr", "webhook.url"`) {
		t.Fatalf("got %v; want the unknown keys named", err)
	}
}

func TestUnknownEnvironmentVariableIsAnErrorNamingIt(t *testing.T) {
	env := []string{"JINDOU_HTTP_ADDR=127.0.0.1:1", "JINDOU_TOKENAUTH=true", "JINDOU_NO_SUCH=1", "OTHER_TOKENAUTH=1"}
	_, err := loadConfig("", env, nil)
	want := "unknown environment variable JINDOU_NO_SUCH, JINDOU_TOKENAUTH (did you mean JINDOU_TOKEN_AUTH?)"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v; want %q", err, want)
	}
}

func TestBadValuesAreClearErrors(t *testing.T) {
	for _, c := range []struct {
		env  string
		want string
	}{
		{"JINDOU_IDLE_TIMEOUT=5 minutes", `idle_timeout: "5 minutes" is not a duration`},
		{"JINDOU_CONNECT_TIMEOUT=30", `connect_timeout: "30" is not a duration`},
		{"JINDOU_TCP_ADDR=127.0.0.1:70000", `tcp_addr: "127.0.0.1:70000": port "70000" is not a number in 0..65535`},
		{"JINDOU_HTTP_ADDR=5001", `http_addr: "5001" is not host:port`},
		{"JINDOU_TOKEN_AUTH=yes please", `token_auth: "yes please" is not a boolean`},
		{"JINDOU_SLOTS=2000", `slots: 2000 is not in 1..1023`},
		{"JINDOU_NODE_ID=0", `node_id: must not be 0`},
		{"JINDOU_LOG_FORMAT=xml", `log_format: "xml" is neither text nor json`},
	} {
		_, err := loadConfig("", []string{c.env}, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v; want %q", c.env, err, c.want)
		}
	}
}

func TestFileValuesOfTheWrongShapeAreErrors(t *testing.T) {
	file := writeFile(t, "tcp_addr: [a, b]\n")
	if _, err := loadConfig(file, nil, nil); err == nil || !strings.Contains(err.Error(), "tcp_addr: must be a single value") {
		t.Fatalf("got %v", err)
	}
	file = writeFile(t, "idle_timeout: 30\n")
	if _, err := loadConfig(file, nil, nil); err == nil || !strings.Contains(err.Error(), `idle_timeout: "30" is not a duration`) {
		t.Fatalf("got %v", err)
	}
	file = writeFile(t, "slots: [\n")
	if _, err := loadConfig(file, nil, nil); err == nil || !strings.Contains(err.Error(), "config file") {
		t.Fatalf("got %v", err)
	}
}

func TestHTTPLimitsAreConfiguredAndChecked(t *testing.T) {
	cfg, err := loadConfig("", []string{"JINDOU_HTTP_MAX_BODY=4096", "JINDOU_HTTP_MAX_REQUESTS=3", "JINDOU_HTTP_IDLE_TIMEOUT=2s"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	l := cfg.httpLimits()
	if l.MaxBody != 4096 || l.MaxRequests != 3 || l.IdleTimeout != 2*time.Second || l.MaxBulkBody != 8<<20 {
		t.Fatalf("limits %+v", l)
	}
	for env, want := range map[string]string{
		"JINDOU_HTTP_MAX_BODY=100":        "http_max_body: 100 is below 1024",
		"JINDOU_HTTP_MAX_BULK_BODY=2048":  "http_max_bulk_body: 2048 is below http_max_body",
		"JINDOU_HTTP_MAX_REQUESTS=0":      "http_max_requests: 0 is below 1",
		"JINDOU_HTTP_READ_TIMEOUT=0s":     "http_read_timeout: 0s must be positive",
		"JINDOU_HTTP_WRITE_TIMEOUT=5s":    "http_write_timeout: 5s must be more than request_timeout",
		"JINDOU_HTTP_BODY_BUDGET=1048576": "http_body_budget: 1048576 is below http_max_bulk_body",
	} {
		if _, err := loadConfig("", []string{env}, nil); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", env, err, want)
		}
	}
}
