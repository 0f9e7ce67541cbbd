package scenarios

import (
	"bufio"
	"os"
	"regexp"
	"slices"
	"strings"
)

// backends is what a scenario file's `# backends:` line says: the backends
// it runs on, and why not on the others. A file without the line runs on
// both. The line is a comment among the first comments of the file:
//
//	# backends: sim (real: hold-disk, a stuck fsync cannot be made on a real disk)
type backends struct {
	kinds  []string
	reason string
}

var allBackends = backends{kinds: []string{"sim", "real"}}

// readBackends reads the file's `# backends:` line.
func readBackends(path string) (backends, error) {
	f, err := os.Open(path)
	if err != nil {
		return backends{}, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "#") {
			if line == "" {
				continue
			}
			break // the first command: the header is over
		}
		rest, ok := strings.CutPrefix(line, "# backends:")
		if !ok {
			continue
		}
		list, reason, _ := strings.Cut(rest, "(")
		b := backends{reason: strings.TrimSuffix(strings.TrimSpace(reason), ")")}
		b.kinds = strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ' ' })
		return b, nil
	}
	return allBackends, sc.Err()
}

func (b backends) has(kind string) bool { return slices.Contains(b.kinds, kind) }

var (
	stampRE   = regexp.MustCompile(`^[0-9]+\.[0-9]{3}s `)
	speakerRE = regexp.MustCompile(`^([^ :]+): `)
)

// normalized is a command's output as the real backend compares it, the
// expected and the observed alike: timestamps stripped; a closed
// connection's error dropped (a real client reads an EOF or a reset where
// the simulator names its own); and the stamped lines of each client
// grouped after the unstamped ones (API replies) and the node's, the
// clients in name order, each client's lines in the order it saw them —
// the order between clients is not determined in real time, one client's
// is (one TCP stream).
func normalized(out string) string {
	var head []string
	byClient := map[string][]string{}
	for line := range strings.Lines(out) {
		line = strings.TrimRight(line, "\n")
		if line == "" {
			continue
		}
		stamped := stampRE.MatchString(line)
		line = stampRE.ReplaceAllString(line, "")
		m := speakerRE.FindStringSubmatch(line)
		if !stamped || m == nil {
			head = append(head, line)
			continue
		}
		if rest, ok := strings.CutPrefix(line, m[0]+"closed"); ok && (rest == "" || strings.HasPrefix(rest, ": ")) {
			line = m[0] + "closed"
		}
		byClient[m[1]] = append(byClient[m[1]], line)
	}
	names := make([]string, 0, len(byClient))
	for n := range byClient {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		head = append(head, byClient[n]...)
	}
	return strings.Join(head, "\n")
}
