package good

import (
	"maps"
	"slices"
	"sort"
	"strings"
)

type stats struct {
	total int
	seen  map[string]bool
}

func allowed(m map[string]int, s *stats, emit func(string)) ([]string, bool) {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		emit(k)
	}
	sum, count := 0, 0
	for _, v := range m {
		sum += v
		count++
	}
	for k, v := range m {
		if v < 0 {
			delete(m, k)
		}
	}
	copied := map[string]int{}
	for k, v := range m {
		copied[strings.ToUpper(k)] = v * 2
		s.seen[k] = true
	}
	var keys []string
	for k := range maps.Keys(m) {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var byLen, vals []string
	for k := range m {
		byLen = append(byLen, k)
		vals = append(vals, k+"!")
	}
	sort.Slice(byLen, func(i, j int) bool { return len(byLen[i]) < len(byLen[j]) })
	sort.Strings(vals)
	found := false
	for k := range m {
		if strings.HasPrefix(k, "x") {
			found = true
			break
		}
	}
	for k, v := range m {
		if len(k) > 3 {
			continue
		}
		switch {
		case v > 10:
			s.total += v
		default:
			s.total--
		}
		for _, c := range k {
			s.total += int(c)
		}
	}
	for k := range m {
		if k == "" {
			return nil, false
		}
	}
	for k := range m { //lint:maporder order-free: emit only marks k as seen in a set
		emit(k)
	}
	//lint:maporder order-free: the callback sums its arguments
	for k := range m {
		emit(k)
	}
	_ = sum + count
	return append(keys, byLen...), found
}
