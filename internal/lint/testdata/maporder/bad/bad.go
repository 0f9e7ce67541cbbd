package bad

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

type out struct{ lines []string }

func (o *out) write(s string) { o.lines = append(o.lines, s) }

func leaks(m map[string]int, o *out) (string, []string) {
	for k := range m { // want: it calls o.write
		o.write(k)
	}
	var keys []string
	for k := range m { // want: not sorted right after the loop
		keys = append(keys, k)
	}
	last := ""
	for k := range m { // want: the last element in map order wins
		last = k
	}
	joined := ""
	for k := range m { // want: on a non-number
		joined += k
	}
	for k := range maps.Keys(m) { // want: range over maps.Keys(m)
		o.write(k)
	}
	for k, v := range maps.All(m) { // want: it calls fmt.Println
		fmt.Println(k, v)
	}
	for k := range m { // want: it returns k, chosen in map order
		if strings.HasPrefix(k, "a") {
			return k, nil
		}
	}
	n := 0
	for k := range m { // want: it stops early
		delete(m, k)
		n++
		if n == 2 {
			break
		}
	}
	ch := make(chan string, len(m))
	for k := range m { // want: it sends on a channel
		ch <- k
	}
	var fs []func()
	for k := range m { // want: it builds a closure
		fs = append(fs, func() { o.write(k) })
	}
	slices.Sort(keys)
	//lint:maporder order-free:
	for k := range m { // want: an allow comment must say why
		o.write(k)
	}
	type named map[int]bool
	var nm named
	sum := 0
	for k := range nm { // want: it calls o.write
		sum += k
		o.write("x")
	}
	return last + joined, keys
}
