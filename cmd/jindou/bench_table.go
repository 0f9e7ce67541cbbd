package main

import (
	"fmt"
	"strings"
)

// table is the one table `bench all` prints: measure | now | target. A
// phase that failed shows its error in place of its figures, so a partial
// run still reports what it measured.
func (r *results) table(a *allOpts) string {
	type row struct{ measure, now, target string }
	failed := func(err error) string {
		msg := err.Error()
		if i := strings.IndexByte(msg, '\n'); i >= 0 {
			msg = msg[:i]
		}
		return "FAILED: " + msg
	}
	var rows []row
	add := func(measure, target string, err error, now func() string) {
		if err != nil {
			rows = append(rows, row{measure, failed(err), target})
			return
		}
		rows = append(rows, row{measure, now(), target})
	}
	add("server CPU per acknowledged person send (crypto on)", "≤ 40 µs", r.sendErr, func() string {
		return fmt.Sprintf("%.1f µs", r.send.CPUPerMessageUS)
	})
	add("acknowledged sends/s, 50 clients × 16 in flight", "≥ 20k", r.sendErr, func() string {
		return fmt.Sprintf("%.1fk", r.send.AckedPerSec/1000)
	})
	add("SENDACK latency p50 / p90 / p99", "—", r.sendErr, func() string {
		l := r.send.Latency
		return fmt.Sprintf("%.2f / %.2f / %.2f ms", l.P50/1000, l.P90/1000, l.P99/1000)
	})
	add(fmt.Sprintf("CPU per group delivery (%d online members)", a.fanoutMembers), "≤ 8 µs", r.fanoutErr, func() string {
		return fmt.Sprintf("%.2f µs", r.fanout.CPUPerDeliveryUS)
	})
	add(fmt.Sprintf("group: deliveries/s; last member has the last message (%d msgs)", a.fanoutMsgs), "—", r.fanoutErr, func() string {
		return fmt.Sprintf("%.1fk/s; %.0f ms", r.fanout.DeliveriesPerSec/1000, r.fanout.LastDeliveryMS)
	})
	add("idle WebSocket connection, RSS after GC", "≤ 5 KiB", r.idleWSErr, func() string {
		return fmt.Sprintf("%.2f KiB", r.idleWS.RSSPerConnection/1024)
	})
	add("idle TCP connection, RSS after GC", "≤ 3 KiB", r.idleTCPErr, func() string {
		return fmt.Sprintf("%.2f KiB", r.idleTCP.RSSPerConnection/1024)
	})
	add("messages per disk sync (send run)", "—", r.sendErr, func() string {
		return fmt.Sprintf("%.1f", r.send.MessagesPerSync)
	})
	add("core: BenchmarkAckedPersonSends (simulator)", "—", r.coreE, func() string {
		return fmt.Sprintf("%.0f ns/op, %.0f allocs/op", r.coreNsOp, r.coreAllocs)
	})

	wm, wn := len("measure"), len("now")
	for _, x := range rows {
		wm, wn = max(wm, runeLen(x.measure)), max(wn, runeLen(x.now))
	}
	var b strings.Builder
	line := func(m, n, t string) {
		fmt.Fprintf(&b, "%s%s | %s%s | %s\n", m, strings.Repeat(" ", wm-runeLen(m)), n, strings.Repeat(" ", wn-runeLen(n)), t)
	}
	line("measure", "now", "target")
	fmt.Fprintf(&b, "%s-|-%s-|-%s\n", strings.Repeat("-", wm), strings.Repeat("-", wn), strings.Repeat("-", len("target")))
	for _, x := range rows {
		line(x.measure, x.now, x.target)
	}
	return b.String()
}

// runeLen is the width of s in a terminal for the text here (µ, ×, ≤ and
// — are one column each, though more than one byte).
func runeLen(s string) int { return len([]rune(s)) }
