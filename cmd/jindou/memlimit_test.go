package main

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"
)

func TestTheMemoryLimitComesFromTheConfigThenGOMEMLIMITThenTheMachine(t *testing.T) {
	was := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(was) })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	noEnv := func(string) string { return "" }
	if got, from := applyMemoryLimit(300<<20, noEnv, log); got != 300<<20 || from != "memory_limit" || debug.SetMemoryLimit(-1) != 300<<20 {
		t.Fatalf("configured: %d from %s", got, from)
	}
	debug.SetMemoryLimit(123 << 20) // as the runtime does from GOMEMLIMIT
	if got, from := applyMemoryLimit(0, func(k string) string { return map[string]string{"GOMEMLIMIT": "123MiB"}[k] }, log); got != 123<<20 || from != "GOMEMLIMIT" {
		t.Fatalf("GOMEMLIMIT: %d from %s", got, from)
	}
	total, _ := availableMemory()
	if got, _ := applyMemoryLimit(0, noEnv, log); total > 0 && got != int64(float64(total)*memoryFraction) {
		t.Fatalf("auto: %d, want %v of %d", got, memoryFraction, total)
	}
}

func TestCgroupAndMeminfoFilesAreRead(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if n, ok := readLimit(write("max", "max\n")); ok {
		t.Fatalf("\"max\" read as a limit of %d", n)
	}
	if n, ok := readLimit(write("v1", "9223372036854771712\n")); ok {
		t.Fatalf("cgroup v1's no-limit read as %d", n)
	}
	if n, ok := readLimit(write("lim", "536870912\n")); !ok || n != 512<<20 {
		t.Fatalf("limit %d %v", n, ok)
	}
	if n, ok := memTotal(write("meminfo", "MemFree: 1 kB\nMemTotal:       16318412 kB\n")); !ok || n != 16318412<<10 {
		t.Fatalf("MemTotal %d %v", n, ok)
	}
}

func TestANegativeBudgetOrAPayloadOverTheFrameIsRefused(t *testing.T) {
	for env, want := range map[string]string{
		"JINDOU_RESEND_BUDGET=-1":         "config: resend_budget: -1 is below 0",
		"JINDOU_MAX_PAYLOAD_SIZE=2000000": "config: max_payload_size: 2000000 is over max_frame_size (1048576): such a SEND could not arrive",
	} {
		if _, err := loadConfig("", []string{env}, nil); err == nil || err.Error() != want {
			t.Errorf("%s: %v, want %q", env, err, want)
		}
	}
}
