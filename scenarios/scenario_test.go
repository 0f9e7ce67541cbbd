package scenarios

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestNormalizedOutputIgnoresTimeAndTheOrderBetweenClientsOnly(t *testing.T) {
	sim := "0.079s alice2: RECV m1 seq=1\n0.080s bob: RECV m1 seq=1\n0.080s alice: SENDACK m1 seq=1 success\n0.3s\n"
	real := "1.204s bob: RECV m1 seq=1\n1.205s alice: SENDACK m1 seq=1 success\n1.206s alice2: RECV m1 seq=1\n0.3s\n"
	if normalized(sim) != normalized(real) {
		t.Errorf("the same events at other times and in another order between clients differ:\n%s\n--\n%s", normalized(sim), normalized(real))
	}
	differ := map[string][2]string{
		"another seq":             {"0.100s bob: RECV m1 seq=1\n", "0.100s bob: RECV m1 seq=2\n"},
		"another reason":          {"0.100s a: SENDACK x seq=0 not-subscriber\n", "0.100s a: SENDACK x seq=0 in-blacklist\n"},
		"one client's order":      {"0.100s a: DISCONNECT kicked\n0.200s a: closed\n", "0.100s a: closed\n0.200s a: DISCONNECT kicked\n"},
		"the API reply's order":   {"seq=1 from=a\nseq=2 from=b\n", "seq=2 from=b\nseq=1 from=a\n"},
		"a missing line":          {"0.100s a: RECV m1\n0.200s a: RECV m1 (resent)\n", "0.100s a: RECV m1\n"},
		"a closed client and not": {"0.100s a: closed: EOF\n", "0.100s a: CONNACK success\n"},
	}
	for name, pair := range differ {
		if normalized(pair[0]) == normalized(pair[1]) {
			t.Errorf("%s: %q and %q normalize alike", name, pair[0], pair[1])
		}
	}
	if got := normalized("0.353s alice: closed: sim: connection reset\n"); got != normalized("2.100s alice: closed: EOF\n") || got != "alice: closed" {
		t.Errorf("a closed connection's error is kept: %q", got)
	}
}

func TestBackendsLineOfAScenarioFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	b, err := readBackends(write("sim.txt", "# A story.\n# backends: sim (real: hold-disk cannot be made)\n\nnode\n----\n"))
	if err != nil || !slices.Equal(b.kinds, []string{"sim"}) || b.reason != "real: hold-disk cannot be made" || b.has("real") {
		t.Errorf("sim only: %+v, %v", b, err)
	}
	b, err = readBackends(write("both.txt", "# A story.\n\nnode\n----\n\n# backends: sim\n"))
	if err != nil || !b.has("sim") || !b.has("real") {
		t.Errorf("no line in the header: %+v, %v; want both backends", b, err)
	}
}
