package node

import (
	"cmp"
	"slices"
	"strconv"
	"time"
)

// Stats reads the node's counters (for /varz and /metrics). Reply:
// StatsReply.
type Stats struct{}

// StatsReply sums every loop's counters.
type StatsReply struct {
	Connections    int   // open client connections
	Online         int   // of which past CONNACK
	Accepted       int64 // connections accepted since start
	InMsgs         int64 // frames from clients
	OutMsgs        int64 // frames to clients
	InBytes        int64
	OutBytes       int64
	RetryQueue     int // RECVs awaiting RECVACK
	SendLatency    [len(SendLatencyBuckets) + 1]int64
	SendLatencySum float64
	Proposals      int64
	Applied        int64
	MessagesStored int64
	DiskCommits    int64
	DiskRetries    int64
	Compactions    int64 // raft log compactions
	Slots          int
	LeaderSlots    int // slots this node leads
	CaughtUpSlots  int // slots ready to serve
	// StartedAt is when this incarnation of the node started (wall clock).
	StartedAt time.Time
}

func (Stats) run(a *apiLoop, done func(any, error)) error {
	out := StatsReply{StartedAt: a.n.startedAt}
	gatherGateways(a, func(g *gateway) StatsReply {
		r := StatsReply{Connections: len(g.clients), Accepted: g.stats.Accepted, InMsgs: g.stats.InMsgs,
			OutMsgs: g.stats.OutMsgs, InBytes: g.stats.InBytes, OutBytes: g.stats.OutBytes,
			SendLatency: g.stats.SendLatency, SendLatencySum: g.stats.SendLatencySum}
		for _, c := range g.clients {
			r.RetryQueue += len(c.pending)
			if c.state == stateReady {
				r.Online++
			}
		}
		return r
	}, func(parts []StatsReply) {
		for _, p := range parts {
			out.Connections += p.Connections
			out.Online += p.Online
			out.Accepted += p.Accepted
			out.InMsgs += p.InMsgs
			out.OutMsgs += p.OutMsgs
			out.InBytes += p.InBytes
			out.OutBytes += p.OutBytes
			out.RetryQueue += p.RetryQueue
			out.SendLatencySum += p.SendLatencySum
			for i, n := range p.SendLatency {
				out.SendLatency[i] += n
			}
		}
		a.slotStats(&out, done)
	})
	return nil
}

// slotStats adds the slot loops' counters. It does not wait for slots to
// catch up: stats must answer while a node recovers.
func (a *apiLoop) slotStats(out *StatsReply, done func(any, error)) {
	type loopStats struct {
		slotStats
		slots, leaders, ready int
	}
	gatherSlotLoops(a, false, func(sl *slotLoop) loopStats {
		ls := loopStats{slotStats: sl.stats, slots: len(sl.slotIDs)}
		for _, id := range sl.slotIDs {
			if sl.isLeader(sl.slots[id]) {
				ls.leaders++
			}
			if sl.slots[id].caughtUp {
				ls.ready++
			}
		}
		return ls
	}, func(parts []loopStats) {
		for _, p := range parts {
			out.Proposals += p.Proposals
			out.Applied += p.Applied
			out.MessagesStored += p.MessagesStored
			out.DiskCommits += p.DiskCommits
			out.DiskRetries += p.DiskRetries
			out.Compactions += p.Compactions
			out.Slots += p.slots
			out.LeaderSlots += p.leaders
			out.CaughtUpSlots += p.ready
		}
		done(*out, nil)
	})
}

// slotQueryNow runs fn on a slot loop at once, caught up or not.
type slotQueryNow struct{ fn func(sl *slotLoop) }

func (slotQueryNow) Kind() string { return "slot-query-now" }

// ConnInfo describes one client connection (for /connz).
type ConnInfo struct {
	ID           uint64 `json:"id"`
	UID          string `json:"uid"`
	Addr         string `json:"addr"`
	DeviceFlag   uint8  `json:"device_flag"`
	DeviceID     string `json:"device_id"`
	Version      uint8  `json:"version"`
	Uptime       time.Duration
	Idle         time.Duration
	InMsgs       int64 `json:"in_msgs"`
	OutMsgs      int64 `json:"out_msgs"`
	InBytes      int64 `json:"in_bytes"`
	OutBytes     int64 `json:"out_bytes"`
	PendingRecvs int   `json:"pending_recvs"`
	Listener     string
}

// Connz lists client connections, optionally of one uid, by id, one page
// at a time (GET /connz). Reply: ConnzReply.
type Connz struct {
	UID           string
	Offset, Limit int
}

// ConnzReply is a page of connections and the total.
type ConnzReply struct {
	Connections []ConnInfo
	Total       int
}

func (r Connz) run(a *apiLoop, done func(any, error)) error {
	if r.Offset < 0 || r.Limit < 0 {
		return &BadRequest{Field: "offset", Msg: "offset and limit must not be negative"}
	}
	gatherGateways(a, func(g *gateway) []ConnInfo {
		now := g.now()
		var out []ConnInfo
		for _, c := range g.sortedClients() {
			if r.UID != "" && c.uid != r.UID {
				continue
			}
			info := c.conn.Info()
			out = append(out, ConnInfo{ID: c.conn.ID(), UID: c.uid, Addr: info.RemoteAddr, Listener: info.Listener,
				DeviceFlag: uint8(c.flag), DeviceID: c.device, Version: c.version, Uptime: now - c.openedAt,
				Idle: now - c.lastInbound, InMsgs: c.inMsgs, OutMsgs: c.outMsgs, InBytes: c.inBytes, OutBytes: c.outBytes,
				PendingRecvs: len(c.pending)})
		}
		return out
	}, func(parts [][]ConnInfo) {
		var all []ConnInfo
		for _, p := range parts {
			all = append(all, p...)
		}
		slices.SortFunc(all, func(x, y ConnInfo) int { return cmp.Compare(x.ID, y.ID) })
		limit := r.Limit
		if limit == 0 {
			limit = 1024
		}
		lo := min(r.Offset, len(all))
		hi := min(lo+limit, len(all))
		done(ConnzReply{Connections: slices.Clone(all[lo:hi]), Total: len(all)}, nil)
	})
	return nil
}

// Ready reports whether every slot has caught up and can serve (for
// /readyz). Reply: ReadyReply.
type Ready struct{}

// ReadyReply says whether the node serves, and if not, why.
type ReadyReply struct {
	Ready  bool
	Reason string
}

func (Ready) run(a *apiLoop, done func(any, error)) error {
	return Stats{}.run(a, func(v any, _ error) {
		st := v.(StatsReply)
		if st.CaughtUpSlots < st.Slots {
			done(ReadyReply{Reason: "slots catching up: " + itoa(st.CaughtUpSlots) + " of " + itoa(st.Slots) + " ready"}, nil)
			return
		}
		done(ReadyReply{Ready: true}, nil)
	})
}

func itoa(n int) string { return strconv.Itoa(n) }
