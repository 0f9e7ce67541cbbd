package sim

import (
	"encoding/binary"
	"hash/fnv"
	"math"

	"github.com/jindou-im/jindou/runtime"
)

// tracer folds every executed event into a rolling FNV-1a hash.
type tracer struct {
	h   uint64
	buf []byte
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func newTracer() tracer { return tracer{h: fnvOffset} }

func (t *tracer) add(at int64, proc runtime.NodeID, loop, kind string, digest uint64) {
	b := t.buf[:0]
	b = binary.BigEndian.AppendUint64(b, uint64(at))
	b = binary.BigEndian.AppendUint64(b, uint64(proc))
	b = append(b, loop...)
	b = append(b, 0)
	b = append(b, kind...)
	b = append(b, 0)
	b = binary.BigEndian.AppendUint64(b, digest)
	h := t.h
	for _, c := range b {
		h ^= uint64(c)
		h *= fnvPrime
	}
	t.h = h
	t.buf = b
}

// digestBytes is the payload digest of a byte slice.
func digestBytes(b []byte) uint64 {
	h := fnv.New64a()
	h.Write(b)
	return h.Sum64()
}

// digestOf is the payload digest of an event: the bytes it carries, or what
// a Msg or timer tag says of itself.
func digestOf(ev runtime.Event) uint64 {
	switch e := ev.(type) {
	case runtime.ConnData:
		return digestBytes(e.Data)
	case runtime.PeerMsg:
		return digestBytes(e.Data) ^ uint64(e.From)
	case runtime.Posted:
		return digestValue(e.Msg)
	case runtime.TimerFired:
		return digestValue(e.Tag)
	case runtime.ConnOpened:
		return e.Conn.ID()
	case runtime.ConnClosed:
		return e.Conn.ID()
	case runtime.DiskDone:
		d := digestValue(e.Tag)
		if e.Err != nil {
			d = ^d
		}
		return d
	}
	return 0
}

func digestValue(v any) uint64 {
	switch x := v.(type) {
	case runtime.Digester:
		return x.Digest()
	case string:
		return digestBytes([]byte(x))
	case int:
		return uint64(x)
	case int64:
		return uint64(x)
	case uint64:
		return x
	case uint32:
		return uint64(x)
	case float64:
		return math.Float64bits(x)
	}
	return 0
}
