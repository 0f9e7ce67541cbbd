// Package msgs plants messages that break the message rule, and some that
// keep it, for internal/lint's tests.
package msgs

import "time"

type withFunc struct { // want: a func at withFunc.done
	done func()
}

type withChan struct { // want: a chan at withChan.c
	c chan int
}

type withAny struct { // want: an empty interface (any) at withAny.v
	v any
}

type nested struct{ cb func(int) }

type withNested struct { // want: a func at withNested.items[].cb
	items []*nested
}

type query interface{ isQuery() }

type goodQuery struct{ n int }
type badQuery struct{ then func() }

func (goodQuery) isQuery() {}
func (badQuery) isQuery()  {}

type withQuery struct { // want: a func at withQuery.q(badQuery).then
	q query
}

type withMap struct { // want: a func at withMap.m[value]
	m map[string]func()
}

// Values only: no report.
type fine struct {
	at    time.Duration
	err   error
	names []string
	byID  map[uint64]goodQuery
	next  *fine
}

// exempt is named in the test's exemption list.
type exempt struct{ done func() }

// notAMessage has no Kind method: not checked.
type notAMessage struct{ done func() }

func (withFunc) Kind() string   { return "" }
func (withChan) Kind() string   { return "" }
func (withAny) Kind() string    { return "" }
func (withNested) Kind() string { return "" }
func (withQuery) Kind() string  { return "" }
func (withMap) Kind() string    { return "" }
func (fine) Kind() string       { return "" }
func (exempt) Kind() string     { return "" }
