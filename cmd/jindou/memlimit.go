package main

import (
	"bufio"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// The memory keys: the budgets of what clients may make the node hold, and
// the Go runtime's soft memory limit, so that the heap is collected and
// returned to the OS before it outgrows the machine (RSS comes back down
// after a peak instead of staying at it).

// memoryFraction is the share of the container's (or machine's) memory the
// soft limit is set to when memory_limit is 0 and GOMEMLIMIT is unset: room
// for what is not Go heap (goroutine stacks, Pebble's cache is Go memory
// too, the kernel's page cache is not counted).
const memoryFraction = 0.8

// validateMemory checks the memory keys.
func (c *Config) validateMemory() error {
	for _, v := range []struct {
		key string
		n   int
	}{{"memory_limit", c.MemoryLimit}, {"max_payload_size", c.MaxPayloadSize}, {"resend_buffer_size", c.ResendBufferSize},
		{"resend_budget", c.ResendBudget}, {"max_pending_output", c.MaxPendingOutput}, {"max_total_pending_output", c.MaxTotalPendingOutput},
		{"store_cache_size", c.StoreCacheSize}, {"store_memtable_size", c.StoreMemtableSize}} {
		if v.n < 0 {
			return fmt.Errorf("config: %s: %d is below 0", v.key, v.n)
		}
	}
	if c.MaxPayloadSize > c.MaxFrameSize {
		return fmt.Errorf("config: max_payload_size: %d is over max_frame_size (%d): such a SEND could not arrive", c.MaxPayloadSize, c.MaxFrameSize)
	}
	return nil
}

// applyMemoryLimit sets the Go runtime's soft memory limit: memory_limit
// if set; else GOMEMLIMIT if set (the runtime read it); else a fraction of
// the cgroup's limit or, without one, of the machine's memory. It returns
// the limit and where it came from.
func applyMemoryLimit(configured int, environ func(string) string, log *slog.Logger) (int64, string) {
	limit, from := int64(configured), "memory_limit"
	switch {
	case configured > 0:
	case environ("GOMEMLIMIT") != "":
		return debug.SetMemoryLimit(-1), "GOMEMLIMIT"
	default:
		total, src := availableMemory()
		if total <= 0 {
			log.Warn("no memory limit found; the Go heap is not bounded", "component", "memory")
			return debug.SetMemoryLimit(-1), "none"
		}
		limit, from = int64(float64(total)*memoryFraction), src
	}
	debug.SetMemoryLimit(limit)
	return limit, from
}

// availableMemory is the cgroup's memory limit (v2, then v1), or the
// machine's memory, in bytes, and which it was.
func availableMemory() (int64, string) {
	for _, p := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		if n, ok := readLimit(p); ok {
			return n, "cgroup"
		}
	}
	if n, ok := memTotal("/proc/meminfo"); ok {
		return n, "physical memory"
	}
	return 0, ""
}

// readLimit reads a cgroup limit file; "max" and absurd values (cgroup v1
// writes a huge number for none) are no limit.
func readLimit(path string) (int64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || n <= 0 || n >= 1<<60 {
		return 0, false
	}
	return n, true
}

// memTotal reads MemTotal from /proc/meminfo.
func memTotal(path string) (int64, bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		return kb << 10, err == nil && kb > 0
	}
	return 0, false
}
