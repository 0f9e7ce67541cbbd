package node

import (
	"fmt"
	"slices"
	"time"
)

// Webhook event names, as WuKongIM names them (internal/types/webhook.go):
// the receiver gets them as ?event=<name>.
const (
	EventMsgNotify    = "msg.notify"
	EventMsgOffline   = "msg.offline"
	EventOnlineStatus = "user.onlinestatus"
)

// WebhookEvents are the events Jindou sends, in the order it documents them.
var WebhookEvents = []string{EventMsgNotify, EventMsgOffline, EventOnlineStatus}

// WebhookConfig configures the webhooks (webhook*.go). The zero value is off.
type WebhookConfig struct {
	// URL is the receiver (webhook_http_addr); each POST goes to
	// URL?event=<name>. Empty: webhooks are off.
	URL string
	// Events are the events sent (webhook_focus_events); empty: all of
	// WebhookEvents.
	Events []string
	// Timeout bounds one POST.
	Timeout time.Duration
	// BatchSize is the most messages in one msg.notify POST; a slot sends
	// a batch once it has that many, or every BatchInterval.
	BatchSize     int
	BatchInterval time.Duration
	// MaxBackoff caps the wait between retries of a failed POST (they
	// double from webhookMinBackoff and go on forever).
	MaxBackoff time.Duration
	// StatusInterval is how often user.onlinestatus is sent (2s, as
	// WuKongIM).
	StatusInterval time.Duration
	// CompressOver: msg.offline's to_uids are sent gzip-compressed
	// (compress_to_uids) when there are more than this many; 0: never
	// (WuKongIM's channel.subscriberCompressOfCount).
	CompressOver int
}

// Limits of the webhooks. Each says why it is what it is.
const (
	// webhookMinBackoff is the first retry delay after a failed POST; it
	// doubles up to WebhookConfig.MaxBackoff.
	webhookMinBackoff = 100 * time.Millisecond
	// maxStatusLines bounds the user.onlinestatus lines kept while the
	// receiver fails; past it the oldest are dropped and counted
	// (Stats.WebhookStatusDropped): presence is not durable, and a
	// receiver down for hours must not exhaust memory.
	maxStatusLines = 100_000
	// maxStatusLinesPerPost bounds one user.onlinestatus POST.
	maxStatusLinesPerPost = 10_000
	// webhookBacklogWarnStep: while a receiver fails, a slot loop logs a
	// warning each time its backlog passes another multiple of this.
	webhookBacklogWarnStep = 10_000
)

func (w WebhookConfig) withDefaults() WebhookConfig {
	if w.Timeout <= 0 {
		w.Timeout = 5 * time.Second
	}
	if w.BatchSize <= 0 {
		w.BatchSize = 100
	}
	if w.BatchInterval <= 0 {
		w.BatchInterval = 500 * time.Millisecond
	}
	if w.MaxBackoff <= 0 {
		w.MaxBackoff = 30 * time.Second
	}
	if w.StatusInterval <= 0 {
		w.StatusInterval = 2 * time.Second
	}
	return w
}

// Validate says which event name is unknown, if any.
func (w WebhookConfig) Validate() error {
	for _, e := range w.Events {
		if !slices.Contains(WebhookEvents, e) {
			return fmt.Errorf("unknown webhook event %q (known: %v)", e, WebhookEvents)
		}
	}
	return nil
}

// On reports whether event is sent.
func (w WebhookConfig) On(event string) bool {
	return w.URL != "" && (len(w.Events) == 0 || slices.Contains(w.Events, event))
}

// outboxOn: stored messages enter the outbox (msg.notify or msg.offline).
func (w WebhookConfig) outboxOn() bool { return w.On(EventMsgNotify) || w.On(EventMsgOffline) }

// presenceOn: gateways tell the slot loops who connects and leaves.
func (w WebhookConfig) presenceOn() bool { return w.On(EventMsgOffline) || w.On(EventOnlineStatus) }

// eventURL is the receiver's address for event.
func (w WebhookConfig) eventURL(event string) string {
	sep := "?"
	if slices.Contains([]byte(w.URL), '?') {
		sep = "&"
	}
	return w.URL + sep + "event=" + event
}
