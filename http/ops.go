package http

import (
	"fmt"
	"net"
	nethttp "net/http"
	"runtime"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/jindou-im/jindou/node"
)

func (s *Server) health(c echo.Context) error {
	return c.JSON(nethttp.StatusOK, map[string]string{"status": "ok"})
}

// readyBody is /readyz's answer: {"status":"ready"}, or {"status":"not
// ready","reason":"..."} with 503.
type readyBody struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

func (s *Server) readyz(c echo.Context) error {
	notReady := func(reason string) error {
		return c.JSON(nethttp.StatusServiceUnavailable, readyBody{Status: "not ready", Reason: reason})
	}
	if ok, why := s.componentsReady(); !ok {
		if why == "" {
			why = "components not ready"
		}
		return notReady(why)
	}
	r, err := callAs[node.ReadyReply](s, c, node.Ready{})
	if err != nil {
		return notReady("node: " + err.Error())
	}
	if !r.Ready {
		return notReady("node: " + r.Reason)
	}
	if why := s.membershipNotReady(c); why != "" {
		return notReady(why) // routes_cluster.go
	}
	return c.JSON(nethttp.StatusOK, readyBody{Status: "ready"})
}

// varzJSON follows WuKongIM's Varz (internal/api/varz.go): server_id is a
// string, uptime a duration like "1d2h3m4s"; in_msgs and out_msgs count
// client frames. Jindou adds its slot figures, the requests deferred while
// slots catch up, and (when Config.QueueStats is set) the runtime's queues.
type varzJSON struct {
	ServerID       string `json:"server_id"`
	ServerName     string `json:"server_name"`
	Version        string `json:"version"`
	Connections    int    `json:"connections"`
	Online         int    `json:"online"`
	Uptime         string `json:"uptime"`
	UptimeSeconds  int64  `json:"uptime_seconds"`
	Goroutine      int    `json:"goroutine"`
	InMsgs         int64  `json:"in_msgs"`
	OutMsgs        int64  `json:"out_msgs"`
	InBytes        int64  `json:"in_bytes"`
	OutBytes       int64  `json:"out_bytes"`
	RetryQueue     int64  `json:"retry_queue"`
	TCPAddr        string `json:"tcp_addr"`
	WSAddr         string `json:"ws_addr"`
	WSSAddr        string `json:"wss_addr"`
	APIURL         string `json:"api_url"`
	ManagerTokenOn int    `json:"manager_token_on"`
	Slots          int    `json:"slots"`
	LeaderSlots    int    `json:"leader_slots"`
	CaughtUpSlots  int    `json:"caught_up_slots"`
	MessagesStored int64  `json:"messages_stored"`
	Deferred       int    `json:"deferred"`
	DeferredHigh   int64  `json:"deferred_high"`
	Overloaded     int64  `json:"overloaded"`
	// The webhooks (docs/WEBHOOKS.md).
	Webhook webhookVarz `json:"webhook"`
	// The runtime's queues; absent without Config.QueueStats.
	LoopQueues map[string]QueueFigures `json:"loop_queues,omitempty"`
	DiskQueue  *diskQueueJSON          `json:"disk_queue,omitempty"`
	TimerQueue *QueueFigures           `json:"timer_queue,omitempty"`
}

// webhookVarz: the messages not yet acknowledged by the receiver, how
// old the oldest is, and what was sent and failed.
type webhookVarz struct {
	Backlog          int     `json:"backlog"`
	OldestAgeSeconds float64 `json:"oldest_age_seconds"`
	Delivered        int64   `json:"delivered"`
	Posts            int64   `json:"posts"`
	Failures         int64   `json:"failures"`
	StatusPending    int     `json:"status_pending"`
	StatusSent       int64   `json:"status_sent"`
	StatusDropped    int64   `json:"status_dropped"`
}

type diskQueueJSON struct {
	QueueFigures
	MaxBatch int64 `json:"max_batch"`
}

func (s *Server) varz(c echo.Context) error {
	st, err := callAs[node.StatsReply](s, c, node.Stats{})
	if err != nil {
		return err
	}
	started := st.StartedAt
	if started.IsZero() {
		started = s.started
	}
	up := time.Since(started)
	vz := varzJSON{
		ServerID: strconv.FormatUint(s.cfg.ServerID, 10), ServerName: "Jindou", Version: s.cfg.Version,
		Connections: st.Connections, Online: st.Online, Uptime: humanDuration(up), UptimeSeconds: int64(up.Seconds()),
		Goroutine: runtime.NumGoroutine(), InMsgs: st.InMsgs, OutMsgs: st.OutMsgs, InBytes: st.InBytes,
		OutBytes: st.OutBytes, RetryQueue: int64(st.RetryQueue), TCPAddr: s.cfg.TCPAddr, WSAddr: s.cfg.WSAddr,
		WSSAddr: s.cfg.WSSAddr, APIURL: s.apiURL(c), ManagerTokenOn: node.B2I(s.cfg.ManagerToken != ""),
		Slots: st.Slots, LeaderSlots: st.LeaderSlots, CaughtUpSlots: st.CaughtUpSlots, MessagesStored: st.MessagesStored,
		Deferred: st.Deferred, DeferredHigh: st.DeferredHigh, Overloaded: st.Overloaded,
		Webhook: webhookVarz{Backlog: st.WebhookBacklog, OldestAgeSeconds: st.WebhookOldestAge.Seconds(),
			Delivered: st.WebhookDelivered, Posts: st.WebhookPosts, Failures: st.WebhookFailures,
			StatusPending: st.WebhookStatusPending, StatusSent: st.WebhookStatusSent, StatusDropped: st.WebhookStatusDropped},
	}
	if s.cfg.QueueStats != nil {
		q := s.cfg.QueueStats()
		vz.LoopQueues = q.Loops
		vz.DiskQueue = &diskQueueJSON{QueueFigures: q.Disk, MaxBatch: q.DiskMaxBatch}
		vz.TimerQueue = &q.Timers
	}
	return c.JSON(nethttp.StatusOK, vz)
}

// apiURL is where this API is reached: the bound address, or the request's
// host before Start.
func (s *Server) apiURL(c echo.Context) string {
	if a := s.Addr(); a != nil {
		if ta, ok := a.(*net.TCPAddr); ok && !ta.IP.IsUnspecified() {
			return "http://" + a.String()
		}
	}
	return "http://" + c.Request().Host
}

// humanDuration formats d as WuKongIM's (and NATS's) myUptime: "3m4s",
// "1d2h3m4s", "1y2d3h4m5s".
func humanDuration(d time.Duration) string {
	secs := int64(d / time.Second)
	mins, hrs := secs/60, secs/3600
	days := hrs / 24
	yrs := days / 365
	switch {
	case yrs > 0:
		return fmt.Sprintf("%dy%dd%dh%dm%ds", yrs, days%365, hrs%24, mins%60, secs%60)
	case days > 0:
		return fmt.Sprintf("%dd%dh%dm%ds", days, hrs%24, mins%60, secs%60)
	case hrs > 0:
		return fmt.Sprintf("%dh%dm%ds", hrs, mins%60, secs%60)
	case mins > 0:
		return fmt.Sprintf("%dm%ds", mins, secs%60)
	}
	return fmt.Sprintf("%ds", secs)
}

// connJSON is one connection of /connz, as WuKongIM's ConnInfo
// (internal/api/connz.go): uptime and idle are durations like "1h2m3s".
// pending_bytes is always 0: the core reports RECVs awaiting RECVACK
// (pending_recvs), not output bytes.
type connJSON struct {
	ID           uint64 `json:"id"`
	UID          string `json:"uid"`
	IP           string `json:"ip"`
	Port         int    `json:"port"`
	DeviceFlag   uint8  `json:"device_flag"`
	DeviceID     string `json:"device_id"`
	Version      uint8  `json:"version"`
	Uptime       string `json:"uptime"`
	Idle         string `json:"idle"`
	InMsgs       int64  `json:"in_msgs"`
	OutMsgs      int64  `json:"out_msgs"`
	InMsgBytes   int64  `json:"in_msg_bytes"`
	OutMsgBytes  int64  `json:"out_msg_bytes"`
	PendingBytes int    `json:"pending_bytes"`
	PendingRecvs int    `json:"pending_recvs"`
	Listener     string `json:"listener"`
}

type connzJSON struct {
	Connections []connJSON `json:"connections"`
	Now         time.Time  `json:"now"`
	Total       int        `json:"total"`
	Offset      int        `json:"offset"`
	Limit       int        `json:"limit"`
}

// connzDefaultLimit is WuKongIM's default page size.
const connzDefaultLimit = 20

func (s *Server) connz(c echo.Context) error {
	offset, err := queryUint(c, "offset", 31, 0)
	if err != nil {
		return err
	}
	limit, err := queryUint(c, "limit", 31, connzDefaultLimit)
	if err != nil {
		return err
	}
	if limit == 0 {
		limit = connzDefaultLimit
	}
	r, err := callAs[node.ConnzReply](s, c, node.Connz{UID: c.QueryParam("uid"), Offset: int(offset), Limit: int(limit)})
	if err != nil {
		return err
	}
	out := connzJSON{Connections: make([]connJSON, 0, len(r.Connections)), Now: time.Now(), Total: r.Total,
		Offset: int(offset), Limit: int(limit)}
	for _, ci := range r.Connections {
		host, port := splitAddr(ci.Addr)
		out.Connections = append(out.Connections, connJSON{
			ID: ci.ID, UID: ci.UID, IP: host, Port: port, DeviceFlag: ci.DeviceFlag, DeviceID: ci.DeviceID,
			Version: ci.Version, Uptime: humanDuration(ci.Uptime), Idle: humanDuration(ci.Idle),
			InMsgs: ci.InMsgs, OutMsgs: ci.OutMsgs, InMsgBytes: ci.InBytes, OutMsgBytes: ci.OutBytes,
			PendingRecvs: ci.PendingRecvs, Listener: ci.Listener,
		})
	}
	return c.JSON(nethttp.StatusOK, out)
}

// splitAddr splits "host:port"; an address without a port is all host.
func splitAddr(addr string) (string, int) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return addr, 0
	}
	port, _ := strconv.Atoi(p)
	return host, port
}

func (s *Server) route(c echo.Context) error {
	n := s.routeFor(c.QueryParam("uid")) // routes_cluster.go
	return c.JSON(nethttp.StatusOK, map[string]string{
		"tcp_addr": n.TCPAddr, "ws_addr": n.WSAddr, "wss_addr": n.WSSAddr,
	})
}

func (s *Server) metrics(c echo.Context) error {
	s.metricsHandler.ServeHTTP(c.Response(), c.Request())
	return nil
}
