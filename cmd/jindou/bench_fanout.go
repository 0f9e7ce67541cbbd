package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/wkclient"
	"github.com/spf13/cobra"
)

// fanoutSummary is `bench fanout --json`.
type fanoutSummary struct {
	Transport string  `json:"transport"`
	Members   int     `json:"members"`
	Senders   int     `json:"senders"`
	Messages  int64   `json:"messages"`
	Acked     int64   `json:"acked"`
	Refused   int64   `json:"refused"`
	Expected  int64   `json:"expected_deliveries"`
	Delivered int64   `json:"deliveries"`
	Seconds   float64 `json:"seconds"`
	// LastDeliveryMS is from the first SEND until the last member had the
	// last message; TailMS is the part of it after the last SENDACK.
	LastDeliveryMS   float64        `json:"last_delivery_ms"`
	TailMS           float64        `json:"tail_after_last_sendack_ms"`
	DeliveriesPerSec float64        `json:"deliveries_per_sec"`
	Latency          latencySummary `json:"sendack_latency"`
	serverDelta
	// LoadCPUSeconds is this process's CPU time over the run: near a full
	// core per second of run means the load, not the server, set the pace.
	LoadCPUSeconds   float64 `json:"load_cpu_seconds"`
	CPUPerDeliveryUS float64 `json:"cpu_us_per_delivery"`
	// PerNode splits the deliveries by the node the members are on.
	PerNode []nodeFanout `json:"per_node,omitempty"`
}

// benchFanoutCmd: N members of one group are online; the first S of them
// send M messages in all to the group, and every member must receive every
// message another member sent.
func benchFanoutCmd(o *benchOpts) *cobra.Command {
	var members, senders, messages, window, size, conc, pid int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "fanout",
		Short: "Group delivery: N online members, deliveries/s, server CPU per delivery, time to the last delivery",
		Long: "Creates a group of N members over the HTTP API, logs all of them in, and has the first S\n" +
			"send M messages in all. Each member needs a file descriptor here and one in the server:\n" +
			"mind `ulimit -n` when raising -n. Against a cluster (--cluster, or --tcp and --http lists)\n" +
			"member i is on node i mod N, the deliveries are split by node and the server's CPU is\n" +
			"summed over the nodes' /metrics.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.resolveNodes(); err != nil {
				return err
			}
			if senders < 1 || senders > members {
				return fmt.Errorf("--senders %d: between 1 and the members (%d)", senders, members)
			}
			uids := make([]string, members)
			for i := range uids {
				uids[i] = fmt.Sprintf("%s-f%d", o.prefix, i)
			}
			group := o.prefix + "-fanout"
			if err := o.post("/channel", map[string]any{"channel_id": group, "channel_type": 2, "subscribers": uids}); err != nil {
				return fmt.Errorf("creating the group: %w", err)
			}
			conns, err := o.dialAll(uids, conc)
			defer func() {
				for _, c := range conns {
					if c != nil {
						c.Close()
					}
				}
			}()
			if err != nil {
				return err
			}
			// Each sender's share; the first ones take the remainder.
			share := make([]int, senders)
			for i := range messages {
				share[i%senders]++
			}
			expected := int64(0)
			for i := range members {
				own := 0
				if i < senders {
					own = share[i]
				}
				expected += int64(messages - own)
			}
			before, source, err := o.sampleServers(pid)
			if err != nil {
				return fmt.Errorf("reading the server's counters: %w", err)
			}
			loadBefore, _ := procCPU(os.Getpid())
			payload := []byte(`{"type":1,"content":"` + strings.Repeat("x", size) + `"}`)
			deadline := time.Now().Add(o.timeout)
			var delivered atomic.Int64
			// The last delivery's time (unix nanoseconds) and the
			// deliveries, by the node of the members.
			byNode := newNodeCounts(len(o.nodes))
			allIn := make(chan struct{})
			var closeOnce sync.Once
			var readers sync.WaitGroup
			// Every member, sender or not, has one reader that counts and
			// acks its RECVs; a sender's reader also takes its SENDACKs,
			// since a connection has one reader.
			var st sendStats
			var lat latencies
			links := make([]*senderLink, senders)
			sendDone := make(chan struct{}, senders)
			start := time.Now()
			stopProgress := progress(cmd.ErrOrStderr(), "delivered", &delivered)
			for i, c := range conns {
				var sl *senderLink
				if i < senders {
					sl = newSenderLink(window)
					links[i] = sl
				}
				readers.Add(1)
				go func() {
					defer readers.Done()
					k := o.nodeOf(i)
					memberReader(c, uids[i], deadline, sl, &st, &delivered, &byNode.last[k], func() {
						byNode.delivered[k].Add(1)
						if delivered.Load() >= expected {
							closeOnce.Do(func() { close(allIn) })
						}
					})
				}()
				if sl != nil {
					go func() {
						sl.send(c, group, payload, share[i], &st)
						sendDone <- struct{}{}
					}()
				}
			}
			if expected == 0 {
				closeOnce.Do(func() { close(allIn) })
			}
			for range senders {
				<-sendDone
			}
			lastAck := time.Now()
			for _, l := range links {
				l.mu.Lock()
				lat.addAll(l.lat)
				l.mu.Unlock()
			}
			select {
			case <-allIn:
			case <-time.After(time.Until(deadline)):
			}
			el := time.Since(start)
			stopProgress()
			after, _, err := o.sampleServers(pid)
			if err != nil {
				return fmt.Errorf("reading the server's counters: %w", err)
			}
			loadAfter, _ := procCPU(os.Getpid())
			s := fanoutSummary{Transport: o.nodesLabel(), Members: members, Senders: senders,
				Messages: int64(messages), Acked: st.acked.Load(), Refused: st.refused.Load(),
				Expected: expected, Delivered: delivered.Load(), Seconds: el.Seconds(),
				Latency: lat.summary(), serverDelta: delta(before, after, source), LoadCPUSeconds: loadAfter - loadBefore}
			s.PerNode = o.fanoutByNode(byNode, members, start)
			if last := byNode.lastOfAll(); last > 0 {
				s.LastDeliveryMS = float64(time.Unix(0, last).Sub(start)) / 1e6
				s.TailMS = max(0, float64(time.Unix(0, last).Sub(lastAck))/1e6)
			}
			if s.LastDeliveryMS > 0 {
				s.DeliveriesPerSec = float64(s.Delivered) / (s.LastDeliveryMS / 1000)
			}
			if s.Delivered > 0 {
				s.CPUPerDeliveryUS = s.CPUSeconds / float64(s.Delivered) * 1e6
			}
			out := cmd.OutOrStdout()
			if asJSON {
				if err := json.NewEncoder(out).Encode(s); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(out, "fanout: %s: group of %d online members, %d senders: %d messages, %d acked (%d refused); "+
					"%d of %d deliveries\n", s.Transport, members, senders, messages, s.Acked, s.Refused, s.Delivered, expected)
				fmt.Fprintf(out, "fanout: last member had the last message %.1f ms after the first send (%.1f ms after the last SENDACK): %.0f deliveries/s\n",
					s.LastDeliveryMS, s.TailMS, s.DeliveriesPerSec)
				for _, n := range s.PerNode {
					fmt.Fprintf(out, "fanout: node %d (%s): %d members, %d deliveries, the last %.1f ms after the first send\n",
						n.Node, n.TCP, n.Members, n.Delivered, n.LastDeliveryMS)
				}
				fmt.Fprintf(out, "fanout: server CPU %.3f s (%s): %.2f µs per delivery; this load's own CPU %.3f s\n",
					s.CPUSeconds, s.CPUSource, s.CPUPerDeliveryUS, s.LoadCPUSeconds)
			}
			for _, c := range conns {
				c.Close()
			}
			readers.Wait()
			if s.Acked < int64(messages) || s.Delivered != expected {
				return fmt.Errorf("%d of %d messages acked, %d of %d deliveries", s.Acked, messages, s.Delivered, expected)
			}
			return nil
		},
	}
	cmd.Flags().IntVarP(&members, "n", "n", 500, "online members of the group (each an open file here and in the server)")
	cmd.Flags().IntVarP(&senders, "senders", "s", 4, "members that send")
	cmd.Flags().IntVarP(&messages, "messages", "m", 200, "messages sent to the group, in all")
	cmd.Flags().IntVarP(&window, "window", "w", 4, "sends in flight per sender")
	cmd.Flags().IntVar(&size, "size", 64, "bytes of text per message")
	cmd.Flags().IntVarP(&conc, "concurrency", "c", 32, "handshakes in flight while logging in")
	cmd.Flags().IntVar(&pid, "pid", 0, "the server's pid, to read its CPU time from /proc (default: /metrics)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object instead of the summary")
	return cmd
}

// senderLink joins a sender's write loop to its member reader: the reader
// frees a window slot and records the latency for each SENDACK.
type senderLink struct {
	slots  chan struct{}
	mu     sync.Mutex
	sentAt map[uint32]time.Time
	lat    []time.Duration
	failed chan struct{}
}

func newSenderLink(window int) *senderLink {
	return &senderLink{slots: make(chan struct{}, window), sentAt: map[uint32]time.Time{}, failed: make(chan struct{})}
}

// send writes n SENDs to the group with the window full, then waits for
// the last SENDACKs.
func (l *senderLink) send(c *wkclient.NetClient, group string, payload []byte, n int, st *sendStats) {
	for range n {
		select {
		case l.slots <- struct{}{}:
		case <-l.failed:
			return
		}
		l.mu.Lock()
		seq, err := c.Send(group, proto.ChannelGroup, "", payload)
		if err == nil {
			l.sentAt[seq] = time.Now()
		}
		l.mu.Unlock()
		if err != nil {
			return
		}
		st.sent.Add(1)
	}
	for range cap(l.slots) {
		select {
		case l.slots <- struct{}{}:
		case <-l.failed:
			return
		}
	}
}

// memberReader acks every RECV on c and counts the distinct messages from
// other members (a redelivered RECV counts once), until the connection
// closes; onDelivery runs after each counted one. For a sender, it also
// answers the send loop's SENDACKs.
func memberReader(c *wkclient.NetClient, uid string, deadline time.Time, sl *senderLink,
	st *sendStats, delivered, lastDelivery *atomic.Int64, onDelivery func()) {
	if sl != nil {
		defer close(sl.failed)
	}
	seen := map[int64]struct{}{}
	for {
		p, err := c.Next(deadline)
		if err != nil {
			return
		}
		switch v := p.(type) {
		case *proto.Recv:
			_ = c.Ack(v)
			if _, dup := seen[v.MessageID]; dup || v.FromUID == uid {
				continue
			}
			seen[v.MessageID] = struct{}{}
			lastDelivery.Store(time.Now().UnixNano())
			delivered.Add(1)
			onDelivery()
		case *proto.Sendack:
			if sl == nil {
				continue
			}
			now := time.Now()
			sl.mu.Lock()
			t0, ok := sl.sentAt[v.ClientSeq]
			delete(sl.sentAt, v.ClientSeq)
			success := ok && v.ReasonCode == proto.ReasonSuccess && v.MessageSeq > 0
			if success {
				sl.lat = append(sl.lat, now.Sub(t0))
			}
			sl.mu.Unlock()
			if !ok {
				continue
			}
			if success {
				st.acked.Add(1)
			} else {
				st.refused.Add(1)
			}
			<-sl.slots
		}
	}
}
