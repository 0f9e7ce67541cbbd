package reactor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jindou-im/jindou/runtime"
)

// Outbound calls (runtime.Outbound) with net/http: one client for the
// host, so connections to a receiver are reused; at most MaxOutbound calls
// run at once, each on a goroutine of its own that posts OutboundDone to
// the calling loop. A call over the limit completes at once with
// ErrOutboundBusy: Call never blocks and nothing queues without bound.

// The defaults and limits of outbound calls.
const (
	// DefaultMaxOutbound is how many calls may be in flight: the node
	// keeps at most one per slot and one per slot loop, so this is room
	// for a few hundred slots without letting a slow receiver gather
	// unbounded goroutines.
	DefaultMaxOutbound = 256
	// DefaultOutboundTimeout bounds a call whose request names none.
	DefaultOutboundTimeout = 10 * time.Second
	// maxOutboundAnswerBytes bounds the body read from an answer: a
	// webhook receiver answers with a status, not with data.
	maxOutboundAnswerBytes = 64 << 10
	// outboundDialTimeout bounds connecting to the receiver.
	outboundDialTimeout = 5 * time.Second
	// outboundIdleConnTimeout closes idle kept-alive connections.
	outboundIdleConnTimeout = 90 * time.Second
)

// Errors an OutboundDone may carry besides net/http's own.
var (
	// ErrOutboundBusy: MaxOutbound calls were in flight already.
	ErrOutboundBusy = errors.New("reactor: too many outbound calls in flight")
	// ErrOutboundStopped: the host was stopping.
	ErrOutboundStopped = errors.New("reactor: host stopped")
)

// outbound runs the host's outbound calls.
type outbound struct {
	h        *Host
	client   *http.Client
	limit    int64
	inFlight atomic.Int64
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	calls    atomic.Int64
	failures atomic.Int64
}

func newOutbound(h *Host, limit int) *outbound {
	ctx, cancel := context.WithCancel(context.Background())
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: outboundDialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        limit,
		MaxIdleConnsPerHost: limit,
		MaxConnsPerHost:     limit,
		IdleConnTimeout:     outboundIdleConnTimeout,
	}
	return &outbound{h: h, client: &http.Client{Transport: tr}, limit: int64(limit), ctx: ctx, cancel: cancel}
}

// outboundEnv is the runtime.Outbound of a host.
type outboundEnv struct{ h *Host }

func (o outboundEnv) Call(from runtime.Loop, req runtime.OutboundRequest, tag any) {
	l, ok := from.(*loop)
	if !ok || l.h != o.h {
		panic("reactor: outbound Call from a loop of another host")
	}
	o.h.out.call(l, req, tag)
}

func (o *outbound) call(l *loop, req runtime.OutboundRequest, tag any) {
	o.calls.Add(1)
	if o.ctx.Err() != nil {
		o.done(l, runtime.OutboundDone{Tag: tag, Err: ErrOutboundStopped})
		return
	}
	if o.inFlight.Add(1) > o.limit {
		o.inFlight.Add(-1)
		o.done(l, runtime.OutboundDone{Tag: tag, Err: ErrOutboundBusy})
		return
	}
	o.wg.Add(1)
	go func() {
		defer o.wg.Done()
		defer o.inFlight.Add(-1)
		status, body, err := o.do(req)
		o.done(l, runtime.OutboundDone{Tag: tag, Status: status, Body: body, Err: err})
	}()
}

func (o *outbound) done(l *loop, d runtime.OutboundDone) {
	if d.Err != nil {
		o.failures.Add(1)
	}
	if o.h.dead.Load() {
		return
	}
	l.post(item{ev: d})
}

// do makes one request and reads (a bounded part of) the answer.
func (o *outbound) do(r runtime.OutboundRequest) (int, []byte, error) {
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = DefaultOutboundTimeout
	}
	ctx, cancel := context.WithTimeout(o.ctx, timeout)
	defer cancel()
	method := r.Method
	if method == "" {
		method = http.MethodPost
	}
	req, err := http.NewRequestWithContext(ctx, method, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		return 0, nil, fmt.Errorf("reactor: outbound request: %w", err)
	}
	if r.ContentType != "" {
		req.Header.Set("Content-Type", r.ContentType)
	}
	resp, err := o.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxOutboundAnswerBytes))
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("reactor: outbound answer: %w", err)
	}
	// Drain what is left (bounded) so the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxOutboundAnswerBytes))
	return resp.StatusCode, body, nil
}

// close cancels the calls in flight and waits for their goroutines.
func (o *outbound) close() {
	o.cancel()
	o.wg.Wait()
	o.client.CloseIdleConnections()
}
