package sim

import (
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"
)

// streamSeed derives the seed of the random stream called name from the
// root seed. Streams are independent of one another and of the order in
// which they are created.
func streamSeed(root uint64, name string) [32]byte {
	h := sha256.New()
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], root)
	h.Write(b[:])
	h.Write([]byte(name))
	var seed [32]byte
	copy(seed[:], h.Sum(nil))
	return seed
}

// Rand returns a new random stream named name, derived from the root seed.
// Two calls with the same name return streams that produce the same values.
func (s *Sim) Rand(name string) *rand.ChaCha8 {
	return rand.NewChaCha8(streamSeed(s.seed, name))
}

// rng returns a *rand.Rand over the stream named name.
func (s *Sim) rng(name string) *rand.Rand {
	return rand.New(s.Rand(name))
}

// between draws a duration uniformly from [lo, hi].
func between(r *rand.Rand, lo, hi int64) int64 {
	if hi <= lo {
		return lo
	}
	return lo + r.Int64N(hi-lo+1)
}

// streamSeedU64 is the first word of the stream named name.
func (s *Sim) streamSeedU64(name string) uint64 { return s.Rand(name).Uint64() }
