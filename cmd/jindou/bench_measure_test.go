package main

import (
	"errors"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestPercentileIsTheNearestRankSample(t *testing.T) {
	d := make([]time.Duration, 100)
	for i := range d {
		d[i] = time.Duration(i+1) * time.Millisecond
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{50, 50 * time.Millisecond}, {90, 90 * time.Millisecond}, {99, 99 * time.Millisecond},
		{99.5, 100 * time.Millisecond}, {100, 100 * time.Millisecond}, {0, time.Millisecond}, {0.5, time.Millisecond}} {
		if got := percentile(d, c.p); got != c.want {
			t.Errorf("p%v of 1..100 ms = %v, want %v", c.p, got, c.want)
		}
	}
	// Of 10 samples, p99 is the largest: only it has 99% at or below it.
	ten := d[:10]
	if got := percentile(ten, 99); got != 10*time.Millisecond {
		t.Errorf("p99 of 1..10 ms = %v, want 10ms", got)
	}
	if got := percentile(ten, 50); got != 5*time.Millisecond {
		t.Errorf("p50 of 1..10 ms = %v, want 5ms", got)
	}
}

func TestPercentileOfOneSampleIsThatSample(t *testing.T) {
	for _, p := range []float64{0, 50, 99, 100} {
		if got := percentile([]time.Duration{7}, p); got != 7 {
			t.Errorf("p%v of {7} = %v", p, got)
		}
	}
}

func TestPercentileOfNoSamplesIsZero(t *testing.T) {
	if got := percentile(nil, 99); got != 0 {
		t.Fatalf("p99 of nothing = %v", got)
	}
	if s := summarize(nil); s.Count != 0 || s.P99 != 0 || s.String() != "n/a" {
		t.Fatalf("summary of nothing = %+v %q", s, s)
	}
}

func TestPercentilesAreSamplesAndNeverDecreaseWithP(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	d := make([]time.Duration, 1237)
	for i := range d {
		d[i] = time.Duration(r.ExpFloat64() * float64(time.Millisecond))
	}
	s := summarize(slices.Clone(d))
	if !(s.P50 <= s.P90 && s.P90 <= s.P99 && s.P99 <= s.Max) || s.Count != len(d) {
		t.Fatalf("summary out of order: %+v", s)
	}
	slices.Sort(d)
	prev := time.Duration(-1)
	for p := 0.0; p <= 100; p += 0.25 {
		got := percentile(d, p)
		if got < prev {
			t.Fatalf("p%v = %v < the previous percentile %v", p, got, prev)
		}
		if _, found := slices.BinarySearch(d, got); !found {
			t.Fatalf("p%v = %v is not one of the samples", p, got)
		}
		prev = got
	}
	if percentile(d, 100) != d[len(d)-1] {
		t.Fatalf("p100 is not the maximum")
	}
}

func TestProcStatCPUCountsFieldsFromTheLastParenthesis(t *testing.T) {
	// A command name with spaces and a ')' of its own, then utime 250 and
	// stime 50 ticks: 3 s at USER_HZ 100.
	stat := "4242 (jin dou) x) S 1 4242 4242 0 -1 4194560 1234 0 0 0 250 50 0 0 20 0 7 0 100 1000000 500 " +
		"18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n"
	got, err := parseProcStatCPU(stat)
	if err != nil || got != 3.0 {
		t.Fatalf("parseProcStatCPU = %v, %v; want 3 s", got, err)
	}
}

func TestProcStatCPURefusesATruncatedLine(t *testing.T) {
	for _, stat := range []string{"", "4242 (jindou", "4242 (jindou) S 1 2 3", "4242 (jindou) S 1 2 3 4 5 6 7 8 9 10 x 50 0"} {
		if _, err := parseProcStatCPU(stat); err == nil {
			t.Errorf("parseProcStatCPU(%q) did not fail", stat)
		}
	}
}

func TestProcCPUReadsThisProcessAndRefusesAMissingOne(t *testing.T) {
	// The format parsed above is the kernel's: this process's own stat
	// parses; pid 0 has no /proc entry.
	if got, err := procCPU(os.Getpid()); err != nil || got < 0 {
		t.Fatalf("procCPU(self) = %v, %v", got, err)
	}
	if got, err := procCPU(0); err == nil {
		t.Fatalf("procCPU(0) = %v, want an error (no such process)", got)
	}
}

const sampleMetrics = `# HELP jindou_messages_stored_total Messages stored since start.
# TYPE jindou_messages_stored_total counter
jindou_messages_stored_total 123456
jindou_disk_commits_total 1.2345e+04
jindou_http_requests_total{code="200",method="POST",route="/channel"} 3
jindou_http_requests_total{code="200",method="GET",route="/a b"} 4
jindou_send_latency_seconds_bucket{le="+Inf"} 9
process_cpu_seconds_total 12.5 1700000000000

`

func TestParseMetricsReadsUnlabelledSeriesByName(t *testing.T) {
	m, err := parseMetrics(strings.NewReader(sampleMetrics))
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]float64{metricStored: 123456, metricDiskCommits: 12345, metricCPU: 12.5} {
		if got, ok := m[k]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", k, got, ok, want)
		}
	}
}

func TestParseMetricsKeepsLabelledSeriesApartFromTheirName(t *testing.T) {
	m, err := parseMetrics(strings.NewReader(sampleMetrics))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m["jindou_http_requests_total"]; ok {
		t.Errorf("a labelled series stood in for the unlabelled name")
	}
	if got := m[`jindou_http_requests_total{code="200",method="GET",route="/a b"}`]; got != 4 {
		t.Errorf("series with a space in a label value = %v, want 4", got)
	}
	if got := m[`jindou_send_latency_seconds_bucket{le="+Inf"}`]; got != 9 {
		t.Errorf("+Inf bucket = %v, want 9", got)
	}
}

func TestParseMetricsRefusesALineWithoutANumber(t *testing.T) {
	for _, text := range []string{"jindou_disk_commits_total\n", "jindou_disk_commits_total many\n", `a{x="1" 3` + "\n"} {
		if _, err := parseMetrics(strings.NewReader(text)); err == nil {
			t.Errorf("parseMetrics(%q) did not fail", text)
		}
	}
}

func TestMessagesPerSyncIsStoredOverCommits(t *testing.T) {
	d := delta(serverSample{cpu: 1, stored: 100, commits: 10}, serverSample{cpu: 3.5, stored: 1100, commits: 50}, "src")
	if d.MessagesPerSync != 25 || d.CPUSeconds != 2.5 || d.Stored != 1000 || d.DiskCommits != 40 {
		t.Fatalf("delta = %+v", d)
	}
	if d := delta(serverSample{stored: 5}, serverSample{stored: 9}, ""); d.MessagesPerSync != 0 {
		t.Fatalf("no commits gave %v messages per sync, want 0", d.MessagesPerSync)
	}
}

func TestCoreBenchLineGivesNsAndAllocsPerOp(t *testing.T) {
	out := "goos: linux\nBenchmarkAckedPersonSends-2   \t   20000\t    252104 ns/op\t   19553 B/op\t     181 allocs/op\nPASS\n"
	ns, allocs, err := parseCoreBench(out)
	if err != nil || ns != 252104 || allocs != 181 {
		t.Fatalf("parseCoreBench = %v, %v, %v", ns, allocs, err)
	}
	if _, _, err := parseCoreBench("PASS\n"); err == nil {
		t.Fatal("no benchmark line did not fail")
	}
}

func TestTableShowsAFailedPhaseInPlaceOfItsFigures(t *testing.T) {
	r := results{send: &sendSummary{AckedPerSec: 21500, CPUPerMessageUS: 38.2},
		fanoutErr: errors.New("12 of 20 deliveries\nmore detail"), idleTCP: &idleSummary{RSSPerConnection: 2048},
		idleWS: &idleSummary{RSSPerConnection: 4096}, coreNsOp: 1000, coreAllocs: 7}
	r.send.Latency = latencySummary{P50: 1000, P90: 2000, P99: 3000}
	tab := r.table(&allOpts{fanoutMembers: 500, fanoutMsgs: 400})
	for _, want := range []string{"38.2 µs", "21.5k", "1.00 / 2.00 / 3.00 ms", "FAILED: 12 of 20 deliveries",
		"2.00 KiB", "4.00 KiB", "1000 ns/op, 7 allocs/op", "≤ 40 µs", "≥ 20k", "≤ 8 µs"} {
		if !strings.Contains(tab, want) {
			t.Errorf("table lacks %q:\n%s", want, tab)
		}
	}
	if strings.Contains(tab, "more detail") {
		t.Errorf("table has the failure's second line:\n%s", tab)
	}
	// Every line has the same column positions: the first '|' at the
	// same rune offset.
	var col int
	for i, line := range strings.Split(strings.TrimSpace(tab), "\n") {
		c := len([]rune(line[:strings.IndexByte(line, '|')]))
		if i == 0 {
			col = c
		} else if c != col {
			t.Errorf("line %d has its first column ending at %d, not %d:\n%s", i, c, col, tab)
		}
	}
}
