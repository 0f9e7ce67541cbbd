package main

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestWebhookKeysLoadFromAFileListAndAnEnvironmentString(t *testing.T) {
	file := writeFile(t, "webhook_http_addr: http://127.0.0.1:9000/hook\nwebhook_focus_events:\n  - msg.notify\n  - user.onlinestatus\nwebhook_batch_size: 50\nwebhook_batch_interval: 200ms\n")
	cfg, err := loadConfig(file, nil, flags(t))
	if err != nil {
		t.Fatal(err)
	}
	w := cfg.webhook()
	if w.URL != "http://127.0.0.1:9000/hook" || !slices.Equal(w.Events, []string{"msg.notify", "user.onlinestatus"}) ||
		w.BatchSize != 50 || w.BatchInterval != 200*time.Millisecond || w.Timeout != 5*time.Second || w.MaxBackoff != 30*time.Second {
		t.Fatalf("webhook config %+v", w)
	}
	cfg, err = loadConfig(file, []string{"JINDOU_WEBHOOK_FOCUS_EVENTS=msg.offline, msg.notify"}, flags(t))
	if err != nil || !slices.Equal(cfg.WebhookFocusEvents, []string{"msg.offline", "msg.notify"}) {
		t.Fatalf("from the environment: %v, %v", cfg.WebhookFocusEvents, err)
	}
}

func TestWebhookKeysRefuseBadValuesNamingTheKey(t *testing.T) {
	for env, key := range map[string]string{
		"JINDOU_WEBHOOK_FOCUS_EVENTS=msg.notify,msg.recall": "webhook_focus_events",
		"JINDOU_WEBHOOK_HTTP_ADDR=localhost:9000":           "webhook_http_addr",
		"JINDOU_WEBHOOK_BATCH_SIZE=0":                       "webhook_batch_size",
		"JINDOU_WEBHOOK_MAX_BACKOFF=0s":                     "webhook_max_backoff",
	} {
		_, err := loadConfig("", []string{env}, flags(t))
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%s: error %v does not name %s", env, err, key)
		}
	}
}
