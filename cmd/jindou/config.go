package main

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	jhttp "github.com/jindou-im/jindou/http"
	"github.com/jindou-im/jindou/node"
	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/confmap"
	"github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/v2"
	"github.com/spf13/pflag"
)

// Config is everything `jindou run` can be told. Each field has one key,
// the same in the YAML file (data_dir: ...), the environment
// (JINDOU_DATA_DIR=...) and, for some, a flag (--data-dir). Precedence:
// flags > environment > file > the defaults below.
type Config struct {
	NodeID       uint64
	DataDir      string
	Slots        int
	SlotLoops    int
	GatewayLoops int
	Reactors     int
	// DiskReserveMB is the free space (MiB) the data dir must keep: below
	// it writes are refused (0: no reserve).
	DiskReserveMB int

	TCPAddr, WSAddr, HTTPAddr                        string
	ExternalTCPAddr, ExternalWSAddr, ExternalWSSAddr string

	ManagerToken   string
	TokenAuth      bool
	AllowPlaintext bool

	ConnectTimeout time.Duration
	IdleTimeout    time.Duration
	ResendInterval time.Duration
	ResendMax      int
	DedupeWindow   time.Duration
	MaxFrameSize   int
	RequestTimeout time.Duration
	StopTimeout    time.Duration

	// The memory budget (memlimit.go).
	MemoryLimit           int
	MaxPayloadSize        int
	ResendBufferSize      int
	ResendBudget          int
	MaxPendingOutput      int
	MaxTotalPendingOutput int
	StoreCacheSize        int
	StoreMemtableSize     int

	LogFormat string
	LogLevel  string

	WebhookHTTPAddr            string
	WebhookFocusEvents         []string
	WebhookTimeout             time.Duration
	WebhookBatchSize           int
	WebhookBatchInterval       time.Duration
	WebhookMaxBackoff          time.Duration
	WebhookOfflineCompressOver int
	Demo                       bool
	MetricsPublic              bool
	Pprof                      string
	CORSOrigins                string

	// HTTP limits (config_http.go).
	HTTPMaxBody, HTTPMaxBulkBody, HTTPBodyBudget, HTTPMaxRequests int
	HTTPReadTimeout, HTTPWriteTimeout, HTTPIdleTimeout            time.Duration
	// The cluster (config_cluster.go); none of them: a node alone.
	ClusterAddr     string
	ClusterNodes    []string
	ClusterJoin     string
	ClusterToken    string
	ClusterReplicas int
}

// defaultConfig is the embedded configuration: a node of one on the
// standard WuKongIM ports.
func defaultConfig() Config {
	return Config{
		NodeID:         1,
		DataDir:        "./jindou-data",
		Slots:          64,
		SlotLoops:      2,
		GatewayLoops:   2,
		DiskReserveMB:  64,
		TCPAddr:        "0.0.0.0:5100",
		WSAddr:         "0.0.0.0:5200",
		HTTPAddr:       "0.0.0.0:5001",
		ConnectTimeout: 5 * time.Second,
		IdleTimeout:    3 * time.Minute,
		ResendInterval: 60 * time.Second,
		ResendMax:      5,
		DedupeWindow:   24 * time.Hour,
		MaxFrameSize:   1 << 20,
		RequestTimeout: 10 * time.Second,
		StopTimeout:    10 * time.Second,

		MaxPayloadSize:        1 << 20,
		ResendBufferSize:      256 << 10,
		ResendBudget:          64 << 20,
		MaxPendingOutput:      1 << 20,
		MaxTotalPendingOutput: 64 << 20,
		StoreCacheSize:        64 << 20,
		StoreMemtableSize:     32 << 20,
		LogFormat:             "text",
		LogLevel:              "info",

		WebhookTimeout:       5 * time.Second,
		WebhookBatchSize:     100,
		WebhookBatchInterval: 500 * time.Millisecond,
		WebhookMaxBackoff:    30 * time.Second,
		Demo:                 true,
		Pprof:                "loopback",

		HTTPMaxBody:      jhttp.DefaultMaxBody,
		HTTPMaxBulkBody:  jhttp.DefaultMaxBulkBody,
		HTTPBodyBudget:   jhttp.DefaultBodyBudget,
		HTTPMaxRequests:  jhttp.DefaultMaxRequests,
		HTTPReadTimeout:  jhttp.DefaultReadTimeout,
		HTTPWriteTimeout: 40 * time.Second,
		HTTPIdleTimeout:  jhttp.DefaultIdleTimeout,
		ClusterReplicas:  3,
	}
}

// field is one configuration key.
type field struct {
	key  string
	help string
	ptr  any // *string, *int, *uint64, *bool, *time.Duration or *[]string
}

func (c *Config) fields() []field {
	return append([]field{
		{"node_id", "this node's id (not 0)", &c.NodeID},
		{"data_dir", "directory for the node's data", &c.DataDir},
		{"slots", "how many slots the data is split into (1-1023; fixed for a data dir)", &c.Slots},
		{"slot_loops", "loops that own slots", &c.SlotLoops},
		{"gateway_loops", "loops that own client connections", &c.GatewayLoops},
		{"reactors", "epoll sub-reactors (0: one per CPU)", &c.Reactors},
		{"disk_reserve_mb", "free space (MiB) the data dir must keep: below it writes are refused (SENDACK 15, HTTP 503) until space returns, and the node will not start (0: none)", &c.DiskReserveMB},
		{"tcp_addr", "WKProto over TCP listener (empty: none)", &c.TCPAddr},
		{"ws_addr", "WKProto over WebSocket listener (empty: none)", &c.WSAddr},
		{"http_addr", "HTTP API listener", &c.HTTPAddr},
		{"external_tcp_addr", "TCP address /route hands to clients (default: the bound one; bound to 0.0.0.0, the host's first non-loopback address)", &c.ExternalTCPAddr},
		{"external_ws_addr", "WebSocket URL /route hands to clients (default: ws:// and the bound address, chosen as for external_tcp_addr)", &c.ExternalWSAddr},
		{"external_wss_addr", "secure WebSocket URL /route hands to clients (default: none)", &c.ExternalWSSAddr},
		{"manager_token", "if set, every HTTP request but the probes and pages needs header token: <this> (/metrics also takes Authorization: Bearer <this>)", &c.ManagerToken},
		{"token_auth", "require CONNECT's token to match the one set by POST /user/token", &c.TokenAuth},
		{"allow_plaintext", "accept SENDs with the no-encrypt setting", &c.AllowPlaintext},
		{"connect_timeout", "how long a connection may take to send CONNECT", &c.ConnectTimeout},
		{"idle_timeout", "close a connection that sent nothing for so long", &c.IdleTimeout},
		{"resend_interval", "resend an unacknowledged RECV after", &c.ResendInterval},
		{"resend_max", "resend an unacknowledged RECV at most so many times", &c.ResendMax},
		{"dedupe_window", "how long a (from, channel, client_msg_no) is remembered", &c.DedupeWindow},
		{"max_frame_size", "largest client frame, in bytes", &c.MaxFrameSize},
		{"request_timeout", "HTTP request timeout", &c.RequestTimeout},
		{"stop_timeout", "how long a graceful stop waits for SENDs and HTTP requests in flight", &c.StopTimeout},
		{"memory_limit", "Go's soft memory limit in bytes (0: GOMEMLIMIT if set, else 80% of the cgroup's or the machine's memory)", &c.MemoryLimit},
		{"max_payload_size", "largest message payload in bytes (SENDACK NotAllowSend, HTTP 400 past it)", &c.MaxPayloadSize},
		{"resend_buffer_size", "bytes of unacknowledged RECVs one connection may hold before it is cut as a slow reader", &c.ResendBufferSize},
		{"resend_budget", "bytes of unacknowledged RECVs all connections may hold; past it the slowest readers are cut first", &c.ResendBudget},
		{"max_pending_output", "bytes a connection may owe its client beyond the socket buffer before it is cut", &c.MaxPendingOutput},
		{"max_total_pending_output", "bytes all connections may owe together; past it those owing the most are cut", &c.MaxTotalPendingOutput},
		{"store_cache_size", "bytes of Pebble's block cache", &c.StoreCacheSize},
		{"store_memtable_size", "bytes of each of Pebble's memtables", &c.StoreMemtableSize},
		{"log_format", "text or json", &c.LogFormat},
		{"log_level", "debug, info, warn or error", &c.LogLevel},
		{"webhook_http_addr", "webhook receiver URL; each event is POSTed to <url>?event=<name> (empty: webhooks off)", &c.WebhookHTTPAddr},
		{"webhook_focus_events", "events sent, a list or comma-separated: msg.notify, msg.offline, user.onlinestatus (empty: all)", &c.WebhookFocusEvents},
		{"webhook_timeout", "timeout of one webhook POST", &c.WebhookTimeout},
		{"webhook_batch_size", "most messages in one msg.notify POST", &c.WebhookBatchSize},
		{"webhook_batch_interval", "how long messages may wait to fill a msg.notify batch", &c.WebhookBatchInterval},
		{"webhook_max_backoff", "longest wait between retries of a failed POST (retries never stop)", &c.WebhookMaxBackoff},
		{"webhook_offline_compress_over", "msg.offline sends to_uids gzip-compressed above this many (0: never)", &c.WebhookOfflineCompressOver},
		{"demo", "serve the chat demo at /demo (it answers only while neither token_auth nor manager_token is set)", &c.Demo},
		{"metrics_public", "serve /metrics without the manager token", &c.MetricsPublic},
		{"pprof", "Go's profiler at /debug/pprof: off, loopback (only to 127.0.0.1 and ::1) or on", &c.Pprof},
		{"cors_origins", "comma-separated origins browsers may call the HTTP API from (* for any; empty: no CORS)", &c.CORSOrigins},
		{"cluster_nodes", "the cluster's members, id@peer_addr, a list or comma-separated, the same on every node, this node_id among them (empty: a node alone)", &c.ClusterNodes},
		{"cluster_join", "instead of cluster_nodes: the peer address of any member of a running cluster; this node asks to be admitted (needs cluster_addr and cluster_token)", &c.ClusterJoin},
		{"cluster_addr", "the peer listener (default: this node's address in cluster_nodes)", &c.ClusterAddr},
		{"cluster_token", "shared secret every peer presents before any message is accepted (required with cluster_nodes, cluster_join or cluster_addr)", &c.ClusterToken},
		{"cluster_replicas", "how many members replicate each slot (at most the member count)", &c.ClusterReplicas},
	}, c.httpFields()...) // config_http.go
}

// flagKeys are the keys that also have a flag (--data-dir for data_dir).
var flagKeys = []string{"data_dir", "node_id", "tcp_addr", "ws_addr", "http_addr", "token_auth", "manager_token", "log_format", "log_level",
	"cluster_nodes", "cluster_addr", "cluster_join"}

// addFlags defines the flags of flagKeys on fs, with the defaults as
// their documented values.
func addFlags(fs *pflag.FlagSet) {
	def := defaultConfig()
	for _, f := range def.fields() {
		if !slices.Contains(flagKeys, f.key) {
			continue
		}
		name := strings.ReplaceAll(f.key, "_", "-")
		switch p := f.ptr.(type) {
		case *string:
			fs.String(name, *p, f.help)
		case *uint64:
			fs.Uint64(name, *p, f.help)
		case *bool:
			fs.Bool(name, *p, f.help)
		case *[]string:
			fs.String(name, strings.Join(*p, ","), f.help)
		default:
			panic("config: no flag kind for " + f.key)
		}
	}
}

// loadConfig merges the defaults, the YAML file (if path is not empty),
// the JINDOU_* environment and the flags set on fs, in increasing
// precedence, and checks the result.
func loadConfig(path string, environ []string, fs *pflag.FlagSet) (Config, error) {
	cfg := defaultConfig()
	fields := cfg.fields()
	known := map[string]bool{}
	defaults := map[string]any{}
	for _, f := range fields {
		known[f.key] = true
		defaults[f.key] = valueString(f.ptr)
	}
	k := koanf.New(".")
	if err := k.Load(confmap.Provider(defaults, "."), nil); err != nil {
		return cfg, err
	}
	if path != "" {
		fk, err := loadFile(path, known)
		if err != nil {
			return cfg, err
		}
		if err := k.Merge(fk); err != nil {
			return cfg, err
		}
	}
	if err := checkEnvKeys(environ, known); err != nil {
		return cfg, err
	}
	envProvider := env.Provider(".", env.Opt{
		Prefix:        "JINDOU_",
		EnvironFunc:   func() []string { return environ },
		TransformFunc: envKey(known),
	})
	if err := k.Load(envProvider, nil); err != nil {
		return cfg, fmt.Errorf("config: environment: %w", err)
	}
	if fs != nil {
		set := map[string]any{}
		fs.Visit(func(f *pflag.Flag) {
			if key := strings.ReplaceAll(f.Name, "-", "_"); known[key] {
				set[key] = f.Value.String()
			}
		})
		if err := k.Load(confmap.Provider(set, "."), nil); err != nil {
			return cfg, err
		}
	}
	for _, f := range fields {
		if err := decodeValue(f, k.Get(f.key)); err != nil {
			return cfg, fmt.Errorf("config: %s: %w", f.key, err)
		}
	}
	return cfg, cfg.validate()
}

// loadFile reads a YAML file; every key must be a known one.
func loadFile(path string, known map[string]bool) (*koanf.Koanf, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	m, err := yaml.Parser().Unmarshal(raw)
	if err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	fk := koanf.New(".")
	if err := fk.Load(confmap.Provider(m, "."), nil); err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	var unknown []string
	for _, key := range fk.Keys() {
		if !known[key] {
			unknown = append(unknown, strconv.Quote(key))
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return nil, fmt.Errorf("config file %s: unknown key %s", path, strings.Join(unknown, ", "))
	}
	return fk, nil
}

// envKey maps JINDOU_DATA_DIR to data_dir (checkEnvKeys has refused
// every other JINDOU_ variable).
func envKey(known map[string]bool) func(k, v string) (string, any) {
	return func(k, v string) (string, any) {
		key := strings.ToLower(strings.TrimPrefix(k, "JINDOU_"))
		if !known[key] {
			return "", nil
		}
		return key, v
	}
}

func valueString(ptr any) string {
	switch p := ptr.(type) {
	case *string:
		return *p
	case *int:
		return strconv.Itoa(*p)
	case *uint64:
		return strconv.FormatUint(*p, 10)
	case *bool:
		return strconv.FormatBool(*p)
	case *time.Duration:
		return p.String()
	case *[]string:
		return strings.Join(*p, ",")
	}
	panic(fmt.Sprintf("config: unsupported kind %T", ptr))
}

// decodeValue sets f from v: a string (defaults, environment, flags) or a
// YAML scalar.
func decodeValue(f field, v any) error {
	if p, ok := f.ptr.(*[]string); ok {
		return decodeList(p, v)
	}
	switch v.(type) {
	case map[string]any, []any:
		return fmt.Errorf("must be a single value, not %T", v)
	}
	s := fmt.Sprint(v)
	if v == nil {
		s = ""
	}
	switch p := f.ptr.(type) {
	case *string:
		*p = s
	case *int:
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("%q is not an integer", s)
		}
		*p = n
	case *uint64:
		n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a non-negative integer", s)
		}
		*p = n
	case *bool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("%q is not a boolean (true or false)", s)
		}
		*p = b
	case *time.Duration:
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("%q is not a duration (for example 500ms, 30s, 5m)", s)
		}
		*p = d
	default:
		panic(fmt.Sprintf("config: unsupported kind %T", f.ptr))
	}
	return nil
}

// decodeList sets a list from a YAML list or a comma-separated string
// (environment, flags, defaults); blanks are dropped.
func decodeList(p *[]string, v any) error {
	var items []string
	switch v := v.(type) {
	case nil:
	case []any:
		for _, e := range v {
			switch e.(type) {
			case map[string]any, []any:
				return fmt.Errorf("a list item must be a single value, not %T", e)
			}
			items = append(items, fmt.Sprint(e))
		}
	case map[string]any:
		return fmt.Errorf("must be a list, not %T", v)
	default:
		items = strings.Split(fmt.Sprint(v), ",")
	}
	*p = nil
	for _, s := range items {
		if s = strings.TrimSpace(s); s != "" {
			*p = append(*p, s)
		}
	}
	return nil
}

func (c *Config) validate() error {
	if c.NodeID == 0 {
		return fmt.Errorf("config: node_id: must not be 0")
	}
	if c.DataDir == "" {
		return fmt.Errorf("config: data_dir: must not be empty")
	}
	if c.Slots < 1 || c.Slots > 1023 {
		return fmt.Errorf("config: slots: %d is not in 1..1023", c.Slots)
	}
	for _, v := range []struct {
		key string
		n   int
		min int
	}{{"slot_loops", c.SlotLoops, 1}, {"gateway_loops", c.GatewayLoops, 1}, {"reactors", c.Reactors, 0}, {"disk_reserve_mb", c.DiskReserveMB, 0},
		{"resend_max", c.ResendMax, 0}, {"max_frame_size", c.MaxFrameSize, 64}} {
		if v.n < v.min {
			return fmt.Errorf("config: %s: %d is below %d", v.key, v.n, v.min)
		}
	}
	for _, v := range []struct {
		key     string
		addr    string
		mayOmit bool
	}{{"tcp_addr", c.TCPAddr, true}, {"ws_addr", c.WSAddr, true}, {"http_addr", c.HTTPAddr, false},
		{"external_tcp_addr", c.ExternalTCPAddr, true}} {
		if v.addr == "" && v.mayOmit {
			continue
		}
		if err := checkListenAddr(v.addr); err != nil {
			return fmt.Errorf("config: %s: %w", v.key, err)
		}
	}
	for _, v := range []struct {
		key string
		d   time.Duration
	}{{"connect_timeout", c.ConnectTimeout}, {"idle_timeout", c.IdleTimeout}, {"resend_interval", c.ResendInterval},
		{"dedupe_window", c.DedupeWindow}, {"request_timeout", c.RequestTimeout}, {"stop_timeout", c.StopTimeout}} {
		if v.d <= 0 {
			return fmt.Errorf("config: %s: %v must be positive", v.key, v.d)
		}
	}
	if err := c.validateWebhook(); err != nil {
		return err
	}
	if err := c.validateHTTP(); err != nil {
		return err
	}
	if err := c.validateMemory(); err != nil {
		return err
	}
	if _, err := c.cluster(); err != nil {
		return err
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("config: log_format: %q is neither text nor json", c.LogFormat)
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		return fmt.Errorf("config: log_level: %w", err)
	}
	if !slices.Contains([]string{"off", "loopback", "on"}, c.Pprof) {
		return fmt.Errorf("config: pprof: %q is not off, loopback or on", c.Pprof)
	}
	for _, o := range c.corsOrigins() {
		if o != "*" && !strings.HasPrefix(o, "http://") && !strings.HasPrefix(o, "https://") {
			return fmt.Errorf("config: cors_origins: %q is not * or an origin like https://example.com", o)
		}
	}
	return nil
}

// corsOrigins splits cors_origins at commas.
func (c *Config) corsOrigins() []string {
	var out []string
	for _, o := range strings.Split(c.CORSOrigins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			out = append(out, o)
		}
	}
	return out
}

// checkListenAddr accepts host:port with a port in 0..65535 (0: any free
// port).
func checkListenAddr(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port", addr)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%q: port %q is not a number in 0..65535", addr, port)
	}
	return nil
}

func (c *Config) validateWebhook() error {
	if c.WebhookHTTPAddr != "" {
		u, err := url.Parse(c.WebhookHTTPAddr)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("config: webhook_http_addr: %q is not an http:// or https:// URL", c.WebhookHTTPAddr)
		}
	}
	if err := (node.WebhookConfig{Events: c.WebhookFocusEvents}).Validate(); err != nil {
		return fmt.Errorf("config: webhook_focus_events: %w", err)
	}
	if c.WebhookBatchSize < 1 {
		return fmt.Errorf("config: webhook_batch_size: %d is below 1", c.WebhookBatchSize)
	}
	if c.WebhookOfflineCompressOver < 0 {
		return fmt.Errorf("config: webhook_offline_compress_over: %d is below 0", c.WebhookOfflineCompressOver)
	}
	for _, v := range []struct {
		key string
		d   time.Duration
	}{{"webhook_timeout", c.WebhookTimeout}, {"webhook_batch_interval", c.WebhookBatchInterval}, {"webhook_max_backoff", c.WebhookMaxBackoff}} {
		if v.d <= 0 {
			return fmt.Errorf("config: %s: %v must be positive", v.key, v.d)
		}
	}
	return nil
}

// webhook is the node's webhook configuration.
func (c *Config) webhook() node.WebhookConfig {
	return node.WebhookConfig{
		URL: c.WebhookHTTPAddr, Events: c.WebhookFocusEvents, Timeout: c.WebhookTimeout,
		BatchSize: c.WebhookBatchSize, BatchInterval: c.WebhookBatchInterval, MaxBackoff: c.WebhookMaxBackoff,
		CompressOver: c.WebhookOfflineCompressOver,
	}
}
