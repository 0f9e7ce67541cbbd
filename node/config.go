package node

import (
	"fmt"
	"time"

	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/node/state"
)

// Config sets a node. The zero value of every field means its default.
type Config struct {
	// Slots is how many slots the data is split into (at most
	// state.MaxSlots, the room the message id layout has); every
	// node of a cluster must agree on it.
	Slots int
	// SlotLoops and GatewayLoops are how many loops own slots and client
	// connections.
	SlotLoops, GatewayLoops int
	// Members are the node ids of the cluster, this node's among them, the
	// same list on every node; empty means a cluster of this node alone.
	// Every member must agree on Slots, SlotLoops and GatewayLoops: a loop
	// of another node is addressed by the same name as here.
	Members []uint64
	// ReplicaCount is how many members replicate each slot (default 3,
	// at most len(Members)); see placement.
	ReplicaCount int
	// Join: this node is new to a running cluster. Members then name
	// members it can reach; it asks the controller to admit it and
	// receives its replicas from the slots' leaders (membership.go).
	Join bool
	// PeerAddr is this node's peer address as the cluster table records
	// it when the node joins.
	PeerAddr string
	// JoinCluster, on a joining node, is the cluster id of the cluster it
	// joins (as the member it asked records it); META.json records it in
	// place of the id Members would give (meta.go).
	JoinCluster string
	// ClusterName, on a node alone (Members of at most one id, not Join),
	// is the cluster id born with it: drawn once by the process for a
	// fresh data dir ("g-" and hex digits), then read back from META.json,
	// and carried by every node that joins the cluster it grows into, so
	// that two clusters grown from nodes alone are told apart. Empty: the
	// id "single" (a data dir made before ids were born so).
	ClusterName string

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
	// SendTimeout is how long a client's SEND waits for its slot's answer
	// before the gateway answers SENDACK SystemError (retryable: a retry
	// with the same client_msg_no is deduplicated if the first landed).
	SendTimeout time.Duration
	// RequestTimeout is how long an API request waits for the loops it
	// asked before it fails with ErrTimeout.
	RequestTimeout time.Duration
	// DeferredLimit bounds the sends and reads a slot loop keeps while its
	// slots catch up after a start; past it they are refused at once with
	// ErrOverloaded (retryable), so a flood during recovery cannot exhaust
	// memory. Its high-water mark is in Stats.
	DeferredLimit int
	// MaxFrameSize bounds a client frame.
	MaxFrameSize int
	// SnapshotChunkBytes bounds the peer messages a slot snapshot is sent
	// in (snapshot_stream.go).
	SnapshotChunkBytes int
	// MaxPayloadBytes bounds a message's payload (after decryption), over
	// every protocol: a larger SEND is answered SENDACK NotAllowSend, a
	// larger HTTP send is a 400 naming payload. Default 1 MiB.
	MaxPayloadBytes int
	// ResendBufferBytes bounds the RECV bytes one connection may hold
	// unacknowledged (kept for resend); past it the connection is cut as
	// a slow reader (DISCONNECT with the reason). Default 256 KiB.
	ResendBufferBytes int
	// ResendBudgetBytes bounds the unacknowledged RECV bytes of all the
	// node's connections together, split evenly over the gateway loops;
	// past a loop's share it cuts its slowest readers (those holding the
	// most unacknowledged bytes) first, until it is under its share again.
	// Default 64 MiB.
	ResendBudgetBytes int

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
	// Webhook configures the webhooks (webhook_config.go); off by default.
	Webhook WebhookConfig
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
	set(&c.ReplicaCount, 3)
	set(&c.SlotLoops, 2)
	set(&c.GatewayLoops, 2)
	set(&c.ResendMax, 5)
	set(&c.MaxFrameSize, proto.DefaultMaxFrameSize)
	set(&c.SnapshotChunkBytes, 1<<20)
	set(&c.MaxPayloadBytes, 1<<20)
	set(&c.ResendBufferBytes, 256<<10)
	set(&c.ResendBudgetBytes, 64<<20)
	set(&c.ElectionTicks, 10)
	set(&c.HeartbeatTicks, 1)
	set(&c.CompactLogAfter, 10000)
	set(&c.DeferredLimit, 100_000)
	setDur(&c.ConnectTimeout, 5*time.Second)
	setDur(&c.IdleTimeout, 3*time.Minute)
	setDur(&c.ResendInterval, 60*time.Second)
	setDur(&c.DedupeWindow, 24*time.Hour)
	setDur(&c.TickInterval, 100*time.Millisecond)
	setDur(&c.SendTimeout, 10*time.Second)
	setDur(&c.RequestTimeout, 10*time.Second)
	if c.DataDir == "" {
		c.DataDir = "data"
	}
	if c.MemTableSize == 0 {
		c.MemTableSize = 32 << 20
	}
	if c.CacheSize == 0 {
		c.CacheSize = 64 << 20
	}
	c.Webhook = c.Webhook.withDefaults()
	if c.Slots > state.MaxSlots {
		panic(fmt.Sprintf("node: at most %d slots", state.MaxSlots))
	}
	return c
}

// Limits of the core that are not settings. Each says why it is what it is.
const (
	// maxWaitingProposals bounds the proposals a slot keeps while it has no
	// leader here; past it a proposal fails at once (ErrNotLeader) rather
	// than queueing without end during a long election.
	maxWaitingProposals = 10_000
	// maxPendingRecvs bounds the RECVs tracked per connection; past it the
	// oldest are forgotten (the client catches up through sync), so one
	// client that never acknowledges costs bounded memory.
	maxPendingRecvs = 4096
	// maxSyncLimit is the largest page of /channel/messagesync; a larger or
	// missing limit asks for defaultSyncLimit.
	maxSyncLimit, defaultSyncLimit = 10_000, 100
	// defaultConnzLimit is /connz's page size when none is asked.
	defaultConnzLimit = 1024
	// diskRetryDelay is how long a slot loop waits before it writes a group
	// commit again after a disk error: long enough not to spin on a failing
	// disk, short against an election timeout.
	diskRetryDelay = 10 * time.Millisecond
	// maxForwardHops bounds how often a request is passed on to the node
	// believed to lead its slot: during an election the belief may be
	// stale on every node, and a request must not circle; past it the
	// request is refused with ErrNotLeader (retryable).
	maxForwardHops = 4
	// announceInterval is how often a slot loop tells the other members
	// which slots it leads (besides at once when it becomes leader): a
	// node that replicates a slot learns its leader from raft, the others
	// from these announcements, and a restarted node within one interval.
	announceInterval = time.Second
	// maxSeenChannels bounds the channels a connection remembers the last
	// pushed seq of (in a cluster, to push repeats as DUP): a connection
	// of a user in more channels than that forgets and starts afresh.
	maxSeenChannels = 4096
	// forwardRetry is how long a requester waits for an answer before it
	// sends a request again (in a cluster only): a request passed on to a
	// leader that crashed or was cut off is lost, and the retry, an
	// election timeout later, finds the new leader. Only requests that are
	// safe to repeat are sent again (reads; sends the state machine
	// deduplicates).
	forwardRetry = time.Second
	// forwardedTimeout bounds how long a slot loop keeps a send that waits
	// for another slot's facts (a person send's recipient lists): the
	// requester has given up by then (SendTimeout), and the wait is
	// dropped so that a lost answer pins no memory.
	forwardedTimeout = 30 * time.Second
	// Raft's flow control per slot: the largest append message, how many
	// may be in flight to one follower, and how many bytes of proposals
	// may wait uncommitted (past it raft refuses proposals: backpressure).
	raftMaxMsgBytes         = 1 << 20
	raftMaxInflightMsgs     = 256
	raftMaxUncommittedBytes = 64 << 20
	// raftLogCacheBytes bounds the newest raft entries a slot keeps in
	// memory (raftlog.go); older ones are read from the raft store. Enough
	// for what is committed, applied and sent to followers next under a
	// busy load; 64 slots hold at most 16 MiB.
	raftLogCacheBytes = 256 << 10
)
