package reactor

import (
	crand "crypto/rand"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/jindou-im/jindou/runtime"
)

// env is the runtime.Env a hosted process sees.
type env struct{ h *Host }

func (e env) Node() runtime.NodeID         { return e.h.cfg.NodeID }
func (e env) Clock() runtime.Clock         { return clock{e.h.start} }
func (e env) Transport() runtime.Transport { return e.h.tr }
func (e env) Disk() runtime.Disk           { return disk{e.h} }
func (e env) Log() *slog.Logger            { return e.h.log }
func (e env) Outbound() runtime.Outbound   { return outboundEnv{e.h} }
func (e env) NewLoop(name string, h runtime.Handler) runtime.Loop {
	return e.h.newLoop(name, h)
}

// Rand returns the stream named name, the same one on every call: a ChaCha8
// seeded from crypto/rand when first asked for.
func (e env) Rand(name string) runtime.Rand {
	h := e.h
	h.randsMu.Lock()
	defer h.randsMu.Unlock()
	if r, ok := h.rands[name]; ok {
		return r
	}
	var seed [32]byte
	if _, err := crand.Read(seed[:]); err != nil {
		panic(fmt.Sprintf("reactor: crypto/rand: %v", err))
	}
	r := rand.NewChaCha8(seed)
	h.rands[name] = r
	return r
}

// clock is monotonic time since the host started, and the wall clock.
type clock struct{ start time.Time }

func (c clock) Now() time.Duration { return time.Since(c.start) }
func (c clock) Wall() time.Time    { return time.Now() }

// newLoop creates a loop; its goroutine starts now if the process is
// running, or when Start returns.
func (h *Host) newLoop(name string, handler runtime.Handler) *loop {
	h.loopsMu.Lock()
	defer h.loopsMu.Unlock()
	if _, dup := h.loops[name]; dup {
		panic(fmt.Sprintf("reactor: duplicate loop %q", name))
	}
	l := newLoop(h, name, handler)
	h.loops[name] = l
	if h.running {
		l.run()
	}
	return l
}
