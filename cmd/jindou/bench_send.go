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

// sendSummary is `bench send --json`.
type sendSummary struct {
	Transport    string         `json:"transport"`
	Nodes        int            `json:"nodes"`
	Mode         string         `json:"mode"`
	Clients      int            `json:"clients"`
	Window       int            `json:"window"`
	PayloadBytes int            `json:"payload_bytes"`
	Sent         int64          `json:"sent"`
	Acked        int64          `json:"acked"`
	Refused      int64          `json:"refused"`
	Recvs        int64          `json:"recvs"`
	Seconds      float64        `json:"seconds"`
	AckedPerSec  float64        `json:"acked_per_sec"`
	Latency      latencySummary `json:"sendack_latency"`
	serverDelta
	// LoadCPUSeconds is this process's CPU time over the run: near a full
	// core per second of run means the load, not the server, set the pace.
	LoadCPUSeconds float64 `json:"load_cpu_seconds"`
	// CPUPerMessageUS is the server's CPU time per acknowledged message.
	CPUPerMessageUS float64 `json:"cpu_us_per_acked_message"`
}

// benchSendCmd: M connected clients send, each with a window of sends in
// flight, and count SENDACKs that carry a seq.
func benchSendCmd(o *benchOpts) *cobra.Command {
	var clients, perClient, window, size, pid int
	var mode string
	var duration time.Duration
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "send",
		Short: "Acked sends per second, SENDACK latency, server CPU per message, messages per disk sync",
		Long: "M clients send to person channels (client i to client i+1) or one group of all of them,\n" +
			"each keeping a window of SENDs in flight, for -n sends each or for --duration.\n" +
			"Server CPU comes from /proc/<pid>/stat with --pid, else from /metrics.\n" +
			"Against a cluster (--cluster, or --tcp and --http lists) client i dials node i mod N and the\n" +
			"server's CPU is summed over the nodes' /metrics.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.resolveNodes(); err != nil {
				return err
			}
			uids := make([]string, clients)
			for i := range uids {
				uids[i] = fmt.Sprintf("%s-s%d", o.prefix, i)
			}
			group := o.prefix + "-group"
			switch mode {
			case "person":
			case "group":
				if err := o.post("/channel", map[string]any{"channel_id": group, "channel_type": 2, "subscribers": uids}); err != nil {
					return fmt.Errorf("creating the group: %w", err)
				}
			default:
				return fmt.Errorf("--mode %q: person or group", mode)
			}
			conns := make([]*wkclient.NetClient, clients)
			defer func() {
				for _, c := range conns {
					if c != nil {
						c.Close()
					}
				}
			}()
			for i, uid := range uids {
				c, err := o.dialAt(uid, i)
				if err != nil {
					return fmt.Errorf("connecting %s: %w", uid, err)
				}
				conns[i] = c
			}
			payload := []byte(`{"type":1,"content":"` + strings.Repeat("x", size) + `"}`)
			// The server is sampled after the logins, so that their CPU
			// (the key exchange) is not counted against the messages.
			before, source, err := o.sampleServers(pid)
			if err != nil {
				return fmt.Errorf("reading the server's counters: %w", err)
			}
			loadBefore, _ := procCPU(os.Getpid())
			var st sendStats
			var lat latencies
			deadline := time.Now().Add(o.timeout)
			start := time.Now()
			stopSending := deadline
			if duration > 0 {
				stopSending = start.Add(duration)
				perClient = 0 // no count limit: the clock decides
			}
			stopProgress := progress(cmd.ErrOrStderr(), "acked", &st.acked)
			var wg sync.WaitGroup
			for i, c := range conns {
				to, typ := uids[(i+1)%clients], proto.ChannelPerson
				if mode == "group" {
					to, typ = group, proto.ChannelGroup
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					sendLoop(c, to, typ, payload, perClient, window, stopSending, deadline, &st, &lat)
				}()
			}
			wg.Wait()
			el := time.Since(start)
			stopProgress()
			after, _, err := o.sampleServers(pid)
			if err != nil {
				return fmt.Errorf("reading the server's counters: %w", err)
			}
			loadAfter, _ := procCPU(os.Getpid())
			s := sendSummary{Transport: o.nodesLabel(), Nodes: len(o.nodes), Mode: mode, Clients: clients, Window: window,
				PayloadBytes: len(payload), Sent: st.sent.Load(), Acked: st.acked.Load(), Refused: st.refused.Load(),
				Recvs: st.recvs.Load(), Seconds: el.Seconds(), Latency: lat.summary(),
				serverDelta: delta(before, after, source), LoadCPUSeconds: loadAfter - loadBefore}
			s.AckedPerSec = float64(s.Acked) / s.Seconds
			if s.Acked > 0 {
				s.CPUPerMessageUS = s.CPUSeconds / float64(s.Acked) * 1e6
			}
			out := cmd.OutOrStdout()
			if asJSON {
				if err := json.NewEncoder(out).Encode(s); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(out, "send: %s, mode %s, %d clients, window %d, payload %d B: "+
					"%d sent, %d acked with a seq (%d refused) in %v: %.0f acked sends/s; %d RECVs received while sending\n",
					s.Transport, mode, clients, window, s.PayloadBytes, s.Sent, s.Acked, s.Refused,
					el.Round(time.Millisecond), s.AckedPerSec, s.Recvs)
				fmt.Fprintf(out, "send: SENDACK latency %s\n", s.Latency)
				fmt.Fprintf(out, "send: server CPU %.3f s (%s): %.1f µs per acked message; this load's own CPU %.3f s\n",
					s.CPUSeconds, s.CPUSource, s.CPUPerMessageUS, s.LoadCPUSeconds)
				fmt.Fprintf(out, "send: %.0f messages stored in %.0f disk commits: %.1f messages per sync\n",
					s.Stored, s.DiskCommits, s.MessagesPerSync)
			}
			if s.Refused > 0 || s.Acked < s.Sent || (duration == 0 && s.Acked < int64(clients*perClient)) {
				return fmt.Errorf("%d of %d sends acked with a seq", s.Acked, max(s.Sent, int64(clients*perClient)))
			}
			return nil
		},
	}
	cmd.Flags().IntVarP(&clients, "clients", "m", 50, "connected clients")
	cmd.Flags().IntVarP(&perClient, "n", "n", 1000, "sends per client (ignored with --duration)")
	cmd.Flags().DurationVar(&duration, "duration", 0, "send for this long instead of -n per client, then wait for the acks")
	cmd.Flags().IntVarP(&window, "window", "w", 16, "sends in flight per client")
	cmd.Flags().IntVar(&size, "size", 64, "bytes of text per message")
	cmd.Flags().StringVar(&mode, "mode", "person", "person (client i sends to client i+1) or group (one group of all clients)")
	cmd.Flags().IntVar(&pid, "pid", 0, "the server's pid, to read its CPU time from /proc (default: /metrics)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object instead of the summary")
	return cmd
}

// sendStats are the counters all send loops share.
type sendStats struct {
	sent, acked, refused, recvs atomic.Int64
}

// sendLoop keeps window sends in flight on c until n are sent (n 0: until
// stopSending), then waits for the SENDACKs of all of them; it
// acknowledges every RECV it gets meanwhile. It returns once every send is
// answered or the connection fails; the reader goroutine it starts ends
// when the caller closes c.
func sendLoop(c *wkclient.NetClient, to string, typ proto.ChannelType, payload []byte, n, window int,
	stopSending, deadline time.Time, st *sendStats, all *latencies) {
	slots := make(chan struct{}, window)
	var mu sync.Mutex
	sentAt := map[uint32]time.Time{}
	var lat []time.Duration // guarded by mu
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		for {
			p, err := c.Next(deadline)
			if err != nil {
				return
			}
			switch v := p.(type) {
			case *proto.Sendack:
				now := time.Now()
				mu.Lock()
				t0, ok := sentAt[v.ClientSeq]
				delete(sentAt, v.ClientSeq)
				if ok && v.ReasonCode == proto.ReasonSuccess && v.MessageSeq > 0 {
					lat = append(lat, now.Sub(t0))
				}
				mu.Unlock()
				if !ok {
					continue // not one of ours: it frees no slot
				}
				if v.ReasonCode == proto.ReasonSuccess && v.MessageSeq > 0 {
					st.acked.Add(1)
				} else {
					st.refused.Add(1)
				}
				<-slots
			case *proto.Recv:
				st.recvs.Add(1)
				_ = c.Ack(v)
			}
		}
	}()
	defer func() {
		mu.Lock()
		all.addAll(lat)
		mu.Unlock()
	}()
	for i := 0; n == 0 || i < n; i++ {
		if n == 0 && !time.Now().Before(stopSending) {
			break
		}
		select {
		case slots <- struct{}{}:
		case <-readerDone:
			return
		}
		// The lock is held across the write so that the reader, seeing the
		// SENDACK, finds the send time recorded; the time is taken once
		// the SEND is written.
		mu.Lock()
		seq, err := c.Send(to, typ, "", payload)
		if err == nil {
			sentAt[seq] = time.Now()
		}
		mu.Unlock()
		if err != nil {
			return
		}
		st.sent.Add(1)
	}
	// Every slot free again means every send is answered.
	for range window {
		select {
		case slots <- struct{}{}:
		case <-readerDone:
			return
		}
	}
}
