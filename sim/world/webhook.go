package world

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/runtime"
	"github.com/jindou-im/jindou/sim"
)

// ReceiverURL is where the world's webhook receiver listens; nodes of a
// world with a receiver set node.Config.Webhook.URL to it.
const ReceiverURL = "http://receiver.sim/webhook"

// ReceiverMode is how the receiver answers.
type ReceiverMode uint8

// The receiver's modes.
const (
	ReceiverUp    ReceiverMode = iota // answers 200 at once
	ReceiverDown                      // refuses connections
	ReceiverError                     // answers 500 (and keeps nothing)
	ReceiverSlow                      // answers 200 after SlowDelay (past the node's timeout: it times out, yet the receiver kept it)
)

func (m ReceiverMode) String() string {
	return [...]string{"up", "down", "error", "slow"}[m]
}

// ParseReceiverMode reads a mode's String.
func ParseReceiverMode(s string) (ReceiverMode, error) {
	for m := ReceiverUp; m <= ReceiverSlow; m++ {
		if m.String() == s {
			return m, nil
		}
	}
	return 0, fmt.Errorf("world: unknown receiver mode %q", s)
}

// HookMessage is one message as a webhook receiver got it.
type HookMessage struct {
	At          time.Duration
	MessageID   int64
	Seq         uint64
	Channel     node.ChannelKey // as stored
	FromUID     string
	ClientMsgNo string
	Payload     []byte
}

// OfflineNotice is one msg.offline the receiver got.
type OfflineNotice struct {
	HookMessage
	ToUIDs []string
}

// Receiver is the world's simulated webhook receiver (a sim.Endpoint). It
// records every POST it answered 200, in arrival order, and counts the
// ones it failed; the run changes its mode to make outages.
type Receiver struct {
	w    *World
	Mode ReceiverMode
	// SlowDelay is how long a slow receiver takes to answer.
	SlowDelay time.Duration
	// outageEnds is when the latest scheduled outage ends.
	outageEnds time.Duration
	// Notified are the messages of every accepted msg.notify, in arrival
	// order (duplicates included); Offline the accepted msg.offline;
	// Status the accepted user.onlinestatus lines.
	Notified []HookMessage
	Offline  []OfflineNotice
	Status   []string
	// Accepted counts POSTs answered 200; Refused, Errored and Slow those
	// refused, answered 500, or answered too late for the caller.
	Accepted, Refused, Errored, Slow int
	// Malformed lists bodies or addresses that were not what WuKongIM's
	// receivers expect.
	Malformed []string
}

// AddReceiver makes the world's webhook receiver: every node's outbound
// call goes to it. Nodes use it when their Config.Webhook.URL is
// ReceiverURL.
func (w *World) AddReceiver() *Receiver {
	r := &Receiver{w: w, SlowDelay: 10 * time.Second}
	w.receiver = r
	w.Sim.SetEndpoint(r)
	return r
}

// Receiver is the world's webhook receiver, or nil.
func (w *World) Receiver() *Receiver { return w.receiver }

// Serve answers one POST (sim.Endpoint).
func (r *Receiver) Serve(now time.Duration, req runtime.OutboundRequest) sim.Answer {
	switch r.Mode {
	case ReceiverDown:
		r.Refused++
		return sim.Answer{Refuse: true}
	case ReceiverError:
		r.Errored++
		return sim.Answer{Status: 500, Body: []byte("receiver failing")}
	}
	if err := r.keep(now, req); err != nil {
		r.Malformed = append(r.Malformed, err.Error())
		return sim.Answer{Status: 400}
	}
	if r.Mode == ReceiverSlow {
		r.Slow++
		return sim.Answer{Status: 200, Delay: r.SlowDelay}
	}
	r.Accepted++
	return sim.Answer{Status: 200}
}

// keep decodes and records one POST.
func (r *Receiver) keep(now time.Duration, req runtime.OutboundRequest) error {
	u, err := url.Parse(req.URL)
	if err != nil || req.Method != "POST" || req.ContentType != "application/json" {
		return fmt.Errorf("bad request %s %s (%s)", req.Method, req.URL, req.ContentType)
	}
	switch event := u.Query().Get("event"); event {
	case node.EventMsgNotify:
		var msgs []hookJSON
		if err := json.Unmarshal(req.Body, &msgs); err != nil || len(msgs) == 0 {
			return fmt.Errorf("msg.notify body %q: %v", req.Body, err)
		}
		for _, m := range msgs {
			r.Notified = append(r.Notified, m.message(now))
		}
	case node.EventMsgOffline:
		var m hookJSON
		if err := json.Unmarshal(req.Body, &m); err != nil {
			return fmt.Errorf("msg.offline body %q: %v", req.Body, err)
		}
		to, err := m.toUIDs()
		if err != nil {
			return err
		}
		r.Offline = append(r.Offline, OfflineNotice{HookMessage: m.message(now), ToUIDs: to})
	case node.EventOnlineStatus:
		var lines []string
		if err := json.Unmarshal(req.Body, &lines); err != nil || len(lines) == 0 {
			return fmt.Errorf("user.onlinestatus body %q: %v", req.Body, err)
		}
		for _, l := range lines {
			if _, err := ParseStatusLine(l); err != nil {
				return err
			}
		}
		r.Status = append(r.Status, lines...)
	default:
		return fmt.Errorf("unknown event %q in %s", event, req.URL)
	}
	return nil
}

// hookJSON is the part of WuKongIM's MessageResp (and
// MessageOfflineNotify) a receiver reads.
type hookJSON struct {
	MessageID    int64    `json:"message_id"`
	MessageIDStr string   `json:"message_idstr"`
	ClientMsgNo  string   `json:"client_msg_no"`
	MessageSeq   uint64   `json:"message_seq"`
	FromUID      string   `json:"from_uid"`
	ChannelID    string   `json:"channel_id"`
	ChannelType  uint8    `json:"channel_type"`
	Payload      []byte   `json:"payload"`
	ToUIDs       []string `json:"to_uids"`
	Compress     string   `json:"compress"`
	Compressed   []byte   `json:"compress_to_uids"`
}

func (m hookJSON) message(now time.Duration) HookMessage {
	ch := node.ChannelKey{Type: proto.ChannelType(m.ChannelType), ID: m.ChannelID}
	if ch.Type == proto.ChannelPerson {
		ch.ID = node.PersonChannelID(m.FromUID, m.ChannelID) // named by the party other than the sender
	}
	return HookMessage{At: now, MessageID: m.MessageID, Seq: m.MessageSeq, Channel: ch, FromUID: m.FromUID,
		ClientMsgNo: m.ClientMsgNo, Payload: m.Payload}
}

func (m hookJSON) toUIDs() ([]string, error) {
	if m.Compress != "gzip" {
		return m.ToUIDs, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(m.Compressed))
	if err != nil {
		return nil, fmt.Errorf("msg.offline compress_to_uids: %v", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("msg.offline compress_to_uids: %v", err)
	}
	var to []string
	if err := json.Unmarshal(raw, &to); err != nil {
		return nil, fmt.Errorf("msg.offline compress_to_uids %q: %v", raw, err)
	}
	return to, nil
}

// StatusLine is one user.onlinestatus entry.
type StatusLine struct {
	UID                     string
	Flag                    uint8
	Online                  bool
	Conn                    uint64
	DeviceCount, TotalCount int
}

// ParseStatusLine reads WuKongIM's "uid-flag-online-conn-device-total"
// (the uid may itself hold dashes: the five numbers are the last fields).
func ParseStatusLine(s string) (StatusLine, error) {
	parts := strings.Split(s, "-")
	if len(parts) < 6 {
		return StatusLine{}, fmt.Errorf("user.onlinestatus line %q: want uid-flag-online-conn-device-total", s)
	}
	n := len(parts)
	nums := make([]uint64, 5)
	for i := range nums {
		v, err := strconv.ParseUint(parts[n-5+i], 10, 64)
		if err != nil {
			return StatusLine{}, fmt.Errorf("user.onlinestatus line %q: %v", s, err)
		}
		nums[i] = v
	}
	if nums[1] > 1 || nums[0] > 255 {
		return StatusLine{}, fmt.Errorf("user.onlinestatus line %q: bad flag or online", s)
	}
	return StatusLine{UID: strings.Join(parts[:n-5], "-"), Flag: uint8(nums[0]), Online: nums[1] == 1, Conn: nums[2],
		DeviceCount: int(nums[3]), TotalCount: int(nums[4])}, nil
}
