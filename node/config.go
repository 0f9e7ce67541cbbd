package node

import (
	"time"

	"github.com/jindou-im/jindou/node/proto"
)

// Config sets a node. The zero value of every field means its default.
type Config struct {
	// Slots is how many slots the data is split into (at most 1023); every
	// node of a cluster must agree on it.
	Slots int
	// SlotLoops and GatewayLoops are how many loops own slots and client
	// connections.
	SlotLoops, GatewayLoops int
	// Replicas lists, per slot, the node ids replicating it; nil means
	// every slot on this node alone (a cluster of one).
	Replicas [][]uint64

	// TokenAuth requires CONNECT's token to match /user/token's.
	TokenAuth bool
	// AllowPlaintext accepts SENDs with the no-encrypt setting.
	AllowPlaintext bool
	// ConnectTimeout is how long a connection may take to send CONNECT.
	ConnectTimeout time.Duration
	// IdleTimeout closes a connection that sent nothing for so long.
	IdleTimeout time.Duration
	// ResendInterval and ResendMax govern unacknowledged RECVs.
	ResendInterval time.Duration
	ResendMax      int
	// DedupeWindow is how long a (from, channel, client_msg_no) is
	// remembered.
	DedupeWindow time.Duration
	// MaxFrameSize bounds a client frame.
	MaxFrameSize int

	// TickInterval is the raft tick; ElectionTicks and HeartbeatTicks are
	// counted in it.
	TickInterval                  time.Duration
	ElectionTicks, HeartbeatTicks int
	// CompactLogAfter is how many applied entries a slot's raft log holds
	// before the oldest half of them is dropped.
	CompactLogAfter int
	// DataDir is the store's directory on the runtime's file system.
	DataDir string
	// MemTableSize is Pebble's memtable size in bytes.
	MemTableSize uint64
	// CacheSize is Pebble's block cache in bytes.
	CacheSize int64
}

func (c Config) withDefaults() Config {
	set := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	setDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	set(&c.Slots, 64)
	set(&c.SlotLoops, 2)
	set(&c.GatewayLoops, 2)
	set(&c.ResendMax, 5)
	set(&c.MaxFrameSize, proto.DefaultMaxFrameSize)
	set(&c.ElectionTicks, 10)
	set(&c.HeartbeatTicks, 1)
	set(&c.CompactLogAfter, 10000)
	setDur(&c.ConnectTimeout, 5*time.Second)
	setDur(&c.IdleTimeout, 3*time.Minute)
	setDur(&c.ResendInterval, 60*time.Second)
	setDur(&c.DedupeWindow, 24*time.Hour)
	setDur(&c.TickInterval, 100*time.Millisecond)
	if c.DataDir == "" {
		c.DataDir = "data"
	}
	if c.MemTableSize == 0 {
		c.MemTableSize = 32 << 20
	}
	if c.CacheSize == 0 {
		c.CacheSize = 64 << 20
	}
	if c.Slots > 1023 {
		panic("node: at most 1023 slots")
	}
	return c
}
