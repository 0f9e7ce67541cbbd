package sim_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jindou-im/jindou/chaos"
	"github.com/jindou-im/jindou/linearize"
	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/runtime"
	"github.com/jindou-im/jindou/sim"
	"github.com/jindou-im/jindou/sim/world"
)

// TestSeeds runs the whole node under one seeded world per seed: the seed
// draws a cluster of 1-5 nodes (mostly 3) and its shape, the disks and
// clocks, dozens of users in person and group chats on random nodes, their
// disconnects and idempotent retries, and faults in the middle of traffic:
// crashes of any node, whole-cluster power loss, partitions and faulty
// links. Then a quiet phase: everything healed and up, everyone
// reconnects, retries what is unknown, and sends a last message to each of
// its channels. Checked: every acknowledged send is stored at its seq, once;
// seqs have no gaps; no client_msg_no is stored twice; retries get the
// original seq; what clients received matches the store, in seq order per
// connection; every user received every last message of its channels; at
// most one node led a slot in a term; every slot's replicas reach one
// applied index with one state digest.
func TestSeeds(t *testing.T) {
	first, n := seedRange()
	counter := chaos.NewCounter()
	opts, replaying := planFlags(t)
	if replaying {
		n = 1
	}
	for seed := first; seed < first+uint64(n); seed++ {
		r := runAndReportSeed(t, t, seed, counter, opts)
		if *shrinkFlag && len(r.failures) > 0 {
			shrinkSeed(t, seed, r.plan)
		}
	}
	// A fault class that never fired, or a workload feature that never
	// happened, in a set of seeds means it was switched off by mistake:
	// the seeds would prove nothing about it.
	if n >= 20 {
		want := singleNodeFaults
		if n >= 50 {
			want = append(slices.Clone(want), clusterFaults()...)
		}
		if missing := counter.Missing(want); len(missing) > 0 {
			t.Errorf("in %d seeds these fault classes never fired: %v (fired: %s)", n, missing, counter)
		}
		features := chaos.NodeSeedFeatures
		if n >= 50 {
			features = append(slices.Clone(features), chaos.ClusterSeedFeatures...)
		}
		if missing := counter.MissingFeatures(features); len(missing) > 0 {
			t.Errorf("in %d seeds these workload features never happened: %v (counted: %s)", n, missing, counter)
		}
	}
	t.Logf("faults fired and features covered: %s", counter)
}

// TestKeptSeeds reruns the seeds that once caught a bug (sim/testdata/seeds),
// each with the cluster size its line gives ("16 nodes=1"; none: drawn).
func TestKeptSeeds(t *testing.T) {
	counter := chaos.NewCounter()
	for _, k := range keptSeeds(t) {
		runAndReportSeed(t, t, k.seed, counter, seedOpts{nodes: k.nodes})
	}
}

// singleNodeFaults are the fault classes a one-node seed set must fire.
var singleNodeFaults = []chaos.Class{
	chaos.CrashPowerLoss, chaos.CrashProcess, chaos.CrashTorn, chaos.DiskErrors, chaos.DiskSlow, chaos.DiskFullSpace,
	chaos.ClockJump, chaos.ClockDrift, chaos.ConnSlow, chaos.ConnFragment, chaos.ClientClose, chaos.ClientCut,
	chaos.ReceiverDown, chaos.ReceiverError, chaos.ReceiverSlow,
}

// keptSeed is a line of testdata/seeds: a seed, and the cluster size it
// runs with (0: drawn).
type keptSeed struct {
	seed  uint64
	nodes int
}

func keptSeeds(t *testing.T) []keptSeed {
	data, err := os.ReadFile(filepath.Join("testdata", "seeds"))
	if err != nil {
		t.Fatal(err)
	}
	var seeds []keptSeed
	for _, line := range strings.Split(string(data), "\n") {
		line, _, _ = strings.Cut(line, "#")
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		var k keptSeed
		fields := strings.Fields(line)
		_, err := fmt.Sscan(fields[0], &k.seed)
		if err == nil && len(fields) > 1 {
			_, err = fmt.Sscanf(fields[1], "nodes=%d", &k.nodes)
		}
		if err != nil || len(fields) > 2 || k.nodes < 0 || k.nodes > 5 {
			t.Fatalf("testdata/seeds: %q: want a seed and an optional nodes=1..5 (%v)", line, err)
		}
		seeds = append(seeds, k)
	}
	return seeds
}

// seedReporter is where a seed's failures go: the test, or a test of the
// harness itself.
type seedReporter interface {
	Errorf(format string, args ...any)
}

// seedOpts change how a seed runs.
type seedOpts struct {
	// plan, if not nil, replaces the plan the seed draws (its faults and
	// workload steps).
	plan chaos.Plan
	// watch, if set, sees the world before it runs.
	watch func(*seedWorld)
	// quiet: print no seed line (the shrinker's runs).
	quiet bool
	// nodes, if not 0, is the cluster's size instead of the drawn one.
	nodes int
}

// runAndReportSeed runs one seed and reports its failures to rep: every
// failure, the fault plan and the command that replays the seed. A seed
// that fails, even by a panic, never stops the seeds after it.
func runAndReportSeed(t *testing.T, rep seedReporter, seed uint64, counter *chaos.Counter, opts seedOpts) *nodeSeedResult {
	r := runNodeSeed(t, seed, counter, opts)
	if !opts.quiet {
		fmt.Printf("seed=%d trace=%016x users=%d nodes=%d partitions=%d crashes=%d leader_changes=%d groups=%d ops=%d sends=%d acked=%d unknown=%d restarts=%d disconnects=%d faults=%d steps=%d events=%d virtual=%v wall=%v check=%v %s\n",
			seed, r.trace, r.users, r.nodes, r.partitions, r.stats.Crashes, r.leaderChanges, r.groups, r.report.Ops, r.sends, r.acked, r.unknown, r.stats.Restarts,
			r.disconnects, len(r.plan.Faults()), len(r.plan.Steps()), r.stats.Events, r.virtual, r.wall.Round(time.Millisecond),
			r.report.CheckDuration.Round(time.Millisecond), r.coverage.Line(append(slices.Clone(chaos.NodeSeedFeatures), chaos.ClusterSeedFeatures...)))
	}
	if len(r.failures) == 0 {
		return r
	}
	for i, f := range r.failures {
		if i == 20 {
			rep.Errorf("seed %d: ... %d more", seed, len(r.failures)-20)
			break
		}
		rep.Errorf("seed %d: %s", seed, f)
	}
	rep.Errorf("seed %d fault plan:\n%s", seed, r.plan.Lines())
	if r.report.Visualization != "" {
		rep.Errorf("seed %d: porcupine visualization: %s", seed, r.report.Visualization)
	}
	rep.Errorf("replay: go test ./sim -run '^TestSeeds$' -seed=%d%s -v\n  with an edited plan: -plan='%s'\n  shrunk: -shrink", seed, nodesFlagText(opts.nodes), r.plan)
	return r
}

type nodeSeedResult struct {
	plan                               chaos.Plan
	coverage                           chaos.Coverage
	report                             linearize.Report
	trace                              uint64
	users, groups                      int
	sends, acked, unknown, disconnects int
	stats                              sim.Stats
	nodes, partitions                  int
	leaderChanges                      int64
	converged                          bool
	virtual, wall                      time.Duration
	failures                           []string
}

const (
	nodeSafety = 10 * time.Second
	// deliveryBound is how soon a message acknowledged while a subscriber
	// was online must reach it.
	deliveryBound = 3 * time.Second
	nodeLiveness  = 15 * time.Second
)

// seedWorld is the state of one node seed.
type seedWorld struct {
	*world.World
	// persons are the person chats judged by a user's own lists that
	// change in traffic (nodeseeds_persons_test.go).
	persons rulePersons
	nodes   []*world.Node
	shape   clusterShape
	// apiPick draws the node of each API call, clientPick the node of each
	// client's dial.
	apiPick, clientPick *rand.Rand
	env                 *rand.Rand
	users               []*seedUser
	// members of each stored channel.
	members  map[node.ChannelKey][]string
	channels []node.ChannelKey
	// stalled: the seed has readers that never acknowledge
	// (nodeseeds_slow_test.go).
	stalled bool
	// paused: the seed has readers that stop reading their socket
	// (nodeseeds_paused_test.go).
	paused bool
	quiet  bool
	// quietAt is when the quiet phase began (in a cluster, delivery
	// liveness is checked from then on).
	quietAt time.Duration
	res     *nodeSeedResult
	counter *chaos.Counter
	// conns numbers client connections for the history.
	conns int
	reads int
	// tailSeen is, per channel, the highest seq acknowledged so far (the
	// reader's edges).
	tailSeen     map[node.ChannelKey]uint64
	ruleChannels []*ruleChannel
	admin        admin
	devices      []*seedDevice
	rpcDevices   []*seedRPCDevice
	apiSends     []*apiSend
	syncq        *syncqWork // nodeseeds_syncq_test.go
	probe        probe
	// lastStats is each node's counters last read in its incarnation;
	// baseStats sums those of the incarnations before, over every node.
	lastStats map[runtime.NodeID]node.StatsReply
	// stopping are the nodes stopped gracefully and not yet restarted.
	stopping  map[runtime.NodeID]bool
	baseStats node.StatsReply
	// leaders is who led each slot in each term, as sampled.
	leaders map[slotTerm]runtime.NodeID
	// ackTimes are when sends were acknowledged (nodeseeds_disk_test.go).
	ackTimes []time.Duration
}

func (sw *seedWorld) fail(format string, args ...any) {
	sw.res.failures = append(sw.res.failures, fmt.Sprintf("at %v: ", sw.Now())+fmt.Sprintf(format, args...))
}

// seedUser is one user with one connection at a time.
type seedUser struct {
	sw  *seedWorld
	uid string
	c   *world.Client
	rng *rand.Rand
	// targets are what the user may send to: its groups, and peers;
	// ruleTargets the rule channels it sends to (drawn from rrng).
	targets, ruleTargets []target
	rrng                 *rand.Rand
	sends                map[string]*sendRec // by client_msg_no
	order                []string            // client_msg_nos in send order
	n                    int
	// lastSeq is, per channel, the last seq received on this connection.
	lastSeq map[node.ChannelKey]uint64
	// got records every RECV: channel → seq → message id.
	got map[node.ChannelKey]map[uint64]int64
	// conn names the current connection in the history; onlineAt is when
	// it got its CONNACK (-1: not online).
	conn     string
	onlineAt time.Duration
}

type target struct {
	addr string // as the client addresses it
	typ  proto.ChannelType
	key  node.ChannelKey // as stored
	// modelled: a rule channel, whose sends may be refused.
	modelled bool
}

// sendRec is a send and what is known of it.
type sendRec struct {
	t        target
	cmn      string
	payload  string
	acked    bool
	seq      uint64
	id       int64
	inflight bool
	final    bool
	refused  bool
	// op is the history's operation of the attempt in flight.
	op       linearize.OpID
	attempts int
}

// runNodeSeed runs one seed. A panic during the run (a node's invariant
// assertion, a bug of the harness) is recovered as the seed's failure.
func runNodeSeed(t *testing.T, seed uint64, counter *chaos.Counter, opts seedOpts) (res *nodeSeedResult) {
	start := time.Now()
	w := world.New(t, seed)
	env := rand.New(w.Sim.Rand("world"))
	sw := &seedWorld{World: w, env: env, members: map[node.ChannelKey][]string{}, res: &nodeSeedResult{coverage: chaos.Coverage{}},
		counter: chaos.NewCounter(), tailSeen: map[node.ChannelKey]uint64{}, lastStats: map[runtime.NodeID]node.StatsReply{},
		leaders: map[slotTerm]runtime.NodeID{}, quietAt: linearize.Forever, apiPick: rand.New(w.Sim.Rand("api-node")), clientPick: rand.New(w.Sim.Rand("client-node"))}
	defer func() {
		if p := recover(); p != nil {
			sw.fail("panic: %v\n%s", p, panicStack())
			res = sw.finish(start)
		}
		counter.Merge(sw.counter)
	}()
	sw.shape = drawShape(rand.New(w.Sim.Rand("cluster")))
	if opts.nodes > 0 {
		sw.shape.nodes = opts.nodes
	}
	sw.res.nodes = sw.shape.nodes
	// Each draw of the node's shape beyond the first ones has its own
	// stream: a new draw must not shift the rest of the world.
	window := dedupeWindow(rand.New(w.Sim.Rand("dedupe")), sw.shape.nodes > 1)
	cfg := node.Config{
		Slots: 1 + env.IntN(64), SlotLoops: 1 + env.IntN(3), GatewayLoops: 1 + env.IntN(3),
		ResendInterval: time.Duration(1+env.IntN(5)) * time.Second, IdleTimeout: time.Minute,
		CompactLogAfter: []int{4, 16, 64, 10000}[rand.New(w.Sim.Rand("compaction")).IntN(4)],
		DedupeWindow:    window, ReplicaCount: sw.shape.replicas,
		// Small chunks, so that snapshots travel in many.
		SnapshotChunkBytes: 256 << rand.New(w.Sim.Rand("snapshot-chunks")).IntN(8),
	}
	sw.drawBudget(&cfg)
	sw.drawOutputBudget()
	outages := sw.setupWebhooks(&cfg)
	if sw.shape.nodes > 1 {
		cfg.SendTimeout, cfg.RequestTimeout = clusterRequestTimeout, clusterRequestTimeout
		// Every slot loop drives each of its slots at every turn, and each
		// slot has R replicas heartbeating: a cluster's seed draws fewer
		// slots (1-16) to keep its cost near a one-node seed's.
		cfg.Slots = 1 + (cfg.Slots-1)/clusterSlotsDivisor
	}
	sw.nodes = w.AddCluster(sw.shape.nodes, cfg)
	sw.makeUsers(12 + env.IntN(30))
	sw.makeRuleChannels()
	sw.makeRulePersons()
	sw.makeDevices()
	sw.makeStalledReaders()
	sw.makePausedReaders()
	sw.planGracefulStop()
	sw.makeRPCDevices()
	sw.startProbe(window)
	// The faults start once the channels exist.
	plan := opts.plan
	if plan == nil {
		faults := rand.New(w.Sim.Rand("faults"))
		if sw.shape.nodes == 1 {
			plan = chaos.DrawSingleNode(faults, chaos.PlanConfig{Node: 1, Duration: nodeSafety - 2*time.Second, MaxCrash: 3})
		} else {
			plan = chaos.DrawCluster(faults, chaos.ClusterConfig{Nodes: sw.shape.nodes, Slots: cfg.Slots, Duration: nodeSafety - 2*time.Second, MaxCrash: 3,
				NoDupReorder: !*linkDupReorder})
		}
		plan = append(plan, sw.drawSteps(rand.New(w.Sim.Rand("steps")))...)
		plan = append(plan, sw.drawPersonSteps(rand.New(w.Sim.Rand("person-steps")))...)
		plan = append(plan, outages...)
	}
	sw.res.plan = plan
	w.Schedule(plan, world.Hooks{BeforeCrash: sw.beforeCrash, AfterRestart: sw.afterRestart, Step: sw.step,
		Joined: sw.joined, Removed: sw.removed, BeforeStop: sw.beforeStop}, sw.counter)
	sw.connectUsers()
	sw.connectDevices()
	sw.connectRPCDevices()
	sw.startReader()
	sw.startSubscriberReader() // nodeseeds_subscribers_test.go
	sw.startConversationReader()
	sw.startAPISender()
	sw.startPersonSender()
	sw.startSyncQueue()
	sw.startStats()
	if opts.watch != nil {
		opts.watch(sw)
	}
	if err := w.Sim.Run(nodeSafety); err != nil {
		sw.fail("safety phase: %v", err)
		return sw.finish(start)
	}
	sw.quietPhase()
	sw.counter.AddDiskErrors(w.Sim.Stats().DiskErrors)
	sw.counter.Covered(sw.res.coverage)
	return sw.finish(start)
}

// panicStack is the stack of a recovered panic (the panicking frames are
// below the deferred call), cut to its first 40 lines.
func panicStack() string {
	lines := strings.Split(string(debug.Stack()), "\n")
	if len(lines) > 40 {
		lines = append(lines[:40], "\t...")
	}
	return strings.Join(lines, "\n")
}

func (sw *seedWorld) finish(start time.Time) *nodeSeedResult {
	sw.res.trace, sw.res.stats, sw.res.virtual, sw.res.wall = sw.Sim.TraceHash(), sw.Sim.Stats(), sw.Now(), time.Since(start)
	sw.res.users = len(sw.users)
	sw.res.partitions = partitions(sw.counter)
	sw.res.leaderChanges = sw.baseStats.LeaderChanges
	for _, u := range sw.users {
		for _, cmn := range u.order {
			sw.res.sends++
			if u.sends[cmn].acked {
				sw.res.acked++
			}
		}
	}
	return sw.res
}
