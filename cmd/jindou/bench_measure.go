package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The node's /metrics series that the bench reads (http/metrics.go names
// them; process_cpu_seconds_total is the Prometheus process collector's).
const (
	metricStored      = "jindou_messages_stored_total"
	metricDiskCommits = "jindou_disk_commits_total"
	metricCPU         = "process_cpu_seconds_total"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat.
// Linux fixes it at 100 on every architecture Go supports (the kernel's
// own HZ may differ, but what /proc exports is scaled to USER_HZ), so it
// is a constant here rather than a sysconf call that would need cgo.
const clockTicks = 100

// parseProcStatCPU returns utime+stime, in seconds, from the text of
// /proc/<pid>/stat. The second field, the command name, is in parentheses
// and may itself contain spaces and parentheses, so the fields are counted
// from the last ')'.
func parseProcStatCPU(stat string) (float64, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("proc stat: no ')' after the command name")
	}
	// After the name come state (field 3), ..., utime (14) and stime (15).
	f := strings.Fields(stat[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("proc stat: %d fields after the command name, want at least 13", len(f))
	}
	utime, err := strconv.ParseUint(f[11], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("proc stat: utime: %w", err)
	}
	stime, err := strconv.ParseUint(f[12], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("proc stat: stime: %w", err)
	}
	return float64(utime+stime) / clockTicks, nil
}

// procCPU reads the CPU time a process has used so far, in seconds.
func procCPU(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseProcStatCPU(string(b))
}

// parseMetrics reads the Prometheus text format. A series without labels
// is keyed by its name, one with labels by its name and labels as written
// (`a{x="1"}`), so a labelled series never stands in for an unlabelled one.
// Comments and blank lines are skipped; a line that does not parse is an
// error, since a figure silently missing would make a delta wrong.
func parseMetrics(r io.Reader) (map[string]float64, error) {
	m := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		// The series ends at the closing brace if there are labels (label
		// values may contain spaces), else at the first space.
		end := strings.IndexByte(line, ' ')
		if open := strings.IndexByte(line, '{'); open >= 0 && (end < 0 || open < end) {
			close := strings.LastIndexByte(line, '}')
			if close < 0 {
				return nil, fmt.Errorf("metrics line %d: unclosed labels", n)
			}
			end = close + 1
		}
		if end <= 0 || end >= len(line) {
			return nil, fmt.Errorf("metrics line %d: no value", n)
		}
		// A timestamp may follow the value.
		fields := strings.Fields(line[end:])
		if len(fields) == 0 {
			return nil, fmt.Errorf("metrics line %d: no value", n)
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			return nil, fmt.Errorf("metrics line %d: %w", n, err)
		}
		m[line[:end]] = v
	}
	return m, sc.Err()
}

// metrics fetches and parses the node's /metrics.
func (o *benchOpts) metrics() (map[string]float64, error) { return o.metricsOf(o.http) }

// metricsOf fetches and parses the /metrics of the node at base.
func (o *benchOpts) metricsOf(base string) (map[string]float64, error) {
	status, b, err := o.callAt(base, http.MethodGet, "/metrics", nil)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: HTTP %d", status)
	}
	return parseMetrics(strings.NewReader(string(b)))
}

// serverSample is the node's counters at one moment.
type serverSample struct {
	cpu             float64 // seconds of CPU used by the server process
	stored, commits float64
}

// sampleServer reads the server's CPU time (from /proc when pid is set, as
// it is exact to the tick and costs the server nothing; else from
// /metrics) and its stored-message and disk-commit counters.
func (o *benchOpts) sampleServer(pid int) (serverSample, string, error) {
	m, err := o.metrics()
	if err != nil {
		return serverSample{}, "", err
	}
	s := serverSample{stored: m[metricStored], commits: m[metricDiskCommits]}
	if pid != 0 {
		s.cpu, err = procCPU(pid)
		return s, "/proc/" + strconv.Itoa(pid) + "/stat", err
	}
	cpu, ok := m[metricCPU]
	if !ok {
		return s, "", fmt.Errorf("/metrics has no %s; give --pid", metricCPU)
	}
	s.cpu = cpu
	return s, "/metrics " + metricCPU, nil
}

// serverDelta is what the server did between two samples.
type serverDelta struct {
	CPUSeconds      float64 `json:"server_cpu_seconds"`
	CPUSource       string  `json:"server_cpu_source"`
	Stored          float64 `json:"messages_stored"`
	DiskCommits     float64 `json:"disk_commits"`
	MessagesPerSync float64 `json:"messages_per_sync"`
}

func delta(before, after serverSample, source string) serverDelta {
	d := serverDelta{CPUSeconds: after.cpu - before.cpu, CPUSource: source,
		Stored: after.stored - before.stored, DiskCommits: after.commits - before.commits}
	if d.DiskCommits > 0 {
		d.MessagesPerSync = d.Stored / d.DiskCommits
	}
	return d
}

// percentile is the nearest-rank percentile of sorted samples: the
// smallest sample that at least p percent of the samples do not exceed.
// It is always one of the samples, so a p99 is a latency some SEND really
// had. It is 0 for no samples.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// latencySummary is a distribution's percentiles, in microseconds.
type latencySummary struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50_us"`
	P90   float64 `json:"p90_us"`
	P99   float64 `json:"p99_us"`
	Max   float64 `json:"max_us"`
}

func summarize(d []time.Duration) latencySummary {
	slices.Sort(d)
	us := func(x time.Duration) float64 { return float64(x) / float64(time.Microsecond) }
	return latencySummary{Count: len(d), P50: us(percentile(d, 50)), P90: us(percentile(d, 90)),
		P99: us(percentile(d, 99)), Max: us(percentile(d, 100))}
}

func (s latencySummary) String() string {
	if s.Count == 0 {
		return "n/a"
	}
	ms := func(us float64) string { return strconv.FormatFloat(us/1000, 'f', 2, 64) + " ms" }
	return fmt.Sprintf("p50 %s p90 %s p99 %s max %s", ms(s.P50), ms(s.P90), ms(s.P99), ms(s.Max))
}

// latencies collects durations from many goroutines.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

// addAll merges a goroutine's own samples, so that hot loops need not
// take the lock per sample.
func (l *latencies) addAll(d []time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d...)
	l.mu.Unlock()
}

func (l *latencies) summary() latencySummary {
	l.mu.Lock()
	defer l.mu.Unlock()
	return summarize(l.d)
}

// progress prints, every second until stopped, how far a counter has got
// and its rate over that second, so a long run shows it is moving.
func progress(w io.Writer, what string, count *atomic.Int64) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		start, last, lastAt := time.Now(), int64(0), time.Now()
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				n := count.Load()
				fmt.Fprintf(w, "  %5.1fs  %d %s so far, %.0f/s\n", now.Sub(start).Seconds(), n, what,
					float64(n-last)/now.Sub(lastAt).Seconds())
				last, lastAt = n, now
			}
		}
	}()
	return func() { close(done); <-finished }
}
