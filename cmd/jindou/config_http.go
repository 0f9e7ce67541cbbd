package main

import (
	"fmt"
	"time"

	jhttp "github.com/jindou-im/jindou/http"
)

// The HTTP API's limits: bodies, requests in flight, connection timeouts.

func (c *Config) httpFields() []field {
	return []field{
		{"http_max_body", "largest HTTP request body, in bytes (larger: 413)", &c.HTTPMaxBody},
		{"http_max_bulk_body", "largest body of the routes carrying a payload or a uid list (/message/send, /message/sendbatch, /channel, subscriber and white/blacklist changes, /user/onlinestatus, /route/batch), in bytes", &c.HTTPMaxBulkBody},
		{"http_body_budget", "most bytes of request bodies read at once, over all requests (beyond: 429)", &c.HTTPBodyBudget},
		{"http_max_requests", "most HTTP requests served at once, the probes aside (beyond: 429)", &c.HTTPMaxRequests},
		{"http_read_timeout", "how long a request's headers and body may take to arrive (a body later than that: 408)", &c.HTTPReadTimeout},
		{"http_write_timeout", "how long a request may take from its headers to the end of its answer (more than request_timeout)", &c.HTTPWriteTimeout},
		{"http_idle_timeout", "close a keep-alive HTTP connection idle for so long", &c.HTTPIdleTimeout},
	}
}

func (c *Config) validateHTTP() error {
	for _, v := range []struct {
		key    string
		n, min int
		minKey string
	}{{"http_max_body", c.HTTPMaxBody, 1024, ""}, {"http_max_bulk_body", c.HTTPMaxBulkBody, c.HTTPMaxBody, "http_max_body"},
		{"http_body_budget", c.HTTPBodyBudget, c.HTTPMaxBulkBody, "http_max_bulk_body"}, {"http_max_requests", c.HTTPMaxRequests, 1, ""}} {
		if v.n < v.min && v.minKey != "" {
			return fmt.Errorf("config: %s: %d is below %s (%d)", v.key, v.n, v.minKey, v.min)
		}
		if v.n < v.min {
			return fmt.Errorf("config: %s: %d is below %d", v.key, v.n, v.min)
		}
	}
	for _, v := range []struct {
		key string
		d   time.Duration
	}{{"http_read_timeout", c.HTTPReadTimeout}, {"http_write_timeout", c.HTTPWriteTimeout}, {"http_idle_timeout", c.HTTPIdleTimeout}} {
		if v.d <= 0 {
			return fmt.Errorf("config: %s: %v must be positive", v.key, v.d)
		}
	}
	if c.HTTPWriteTimeout <= c.RequestTimeout {
		return fmt.Errorf("config: http_write_timeout: %v must be more than request_timeout (%v), or answers are cut", c.HTTPWriteTimeout, c.RequestTimeout)
	}
	return nil
}

// httpLimits are the HTTP server's limits.
func (c *Config) httpLimits() jhttp.Limits {
	return jhttp.Limits{
		MaxBody: int64(c.HTTPMaxBody), MaxBulkBody: int64(c.HTTPMaxBulkBody), BodyBudget: int64(c.HTTPBodyBudget),
		MaxRequests: c.HTTPMaxRequests, ReadTimeout: c.HTTPReadTimeout, WriteTimeout: c.HTTPWriteTimeout,
		IdleTimeout: c.HTTPIdleTimeout,
	}
}
