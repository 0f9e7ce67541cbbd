package reactor

import (
	"errors"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// readBufSize is a poller's read buffer; each read is copied out of it into
// the ConnData posted to the owning loop.
const readBufSize = 64 << 10

// maxEpollEvents is how many readiness reports one epoll_wait returns; more
// ready connections are reported by the next call, so it bounds the work
// between two checks of the wake fd, not the connections served.
const maxEpollEvents = 256

// maxReadsPerEvent bounds the reads one connection gets per readiness before
// the others get a turn; the rest is read on the next round.
const maxReadsPerEvent = 16

// poller is a sub-reactor: an edge-triggered epoll instance over some of the
// host's TCP connections, served by one goroutine that reads them and
// continues their blocked writes.
type poller struct {
	h    *Host
	epfd int
	// wakefd is an eventfd in the epoll set; writing it wakes the goroutine.
	wakefd int

	mu sync.Mutex
	// conns maps the fds in the epoll set to their connections; guarded
	// by mu.
	conns map[int32]*tcpConn
	// stopping ends the goroutine at its next wake-up; guarded by mu.
	stopping bool

	// buf is the read buffer and ready the connections with more to read;
	// both owned by the poller's goroutine.
	buf   []byte
	ready []*tcpConn
	done  chan struct{}
}

func newPoller(h *Host) (*poller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	wakefd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(epfd)
		return nil, os.NewSyscallError("eventfd", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(wakefd)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wakefd, &ev); err != nil {
		unix.Close(epfd)
		unix.Close(wakefd)
		return nil, os.NewSyscallError("epoll_ctl", err)
	}
	return &poller{h: h, epfd: epfd, wakefd: wakefd, conns: map[int32]*tcpConn{}, done: make(chan struct{})}, nil
}

// add puts c's fd in the epoll set, edge-triggered for both directions, so
// that no epoll_ctl is needed when a write blocks.
func (p *poller) add(c *tcpConn) error {
	p.mu.Lock()
	p.conns[int32(c.fd)] = c
	p.mu.Unlock()
	ev := unix.EpollEvent{
		Events: unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLET,
		Fd:     int32(c.fd),
	}
	if err := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, c.fd, &ev); err != nil {
		p.mu.Lock()
		delete(p.conns, int32(c.fd))
		p.mu.Unlock()
		return os.NewSyscallError("epoll_ctl", err)
	}
	return nil
}

// remove takes c's fd out of the epoll set; call it before closing the fd.
func (p *poller) remove(c *tcpConn) {
	_ = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, c.fd, nil)
	p.mu.Lock()
	delete(p.conns, int32(c.fd))
	p.mu.Unlock()
}

func (p *poller) lookup(fd int32) *tcpConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.conns[fd]
}

func (p *poller) serve() {
	p.buf = make([]byte, readBufSize)
	p.h.wg.Add(1)
	go func() {
		defer p.h.wg.Done()
		defer close(p.done)
		p.loop()
	}()
}

func (p *poller) loop() {
	events := make([]unix.EpollEvent, maxEpollEvents)
	for {
		timeout := -1
		if len(p.ready) > 0 {
			timeout = 0
		}
		n, err := unix.EpollWait(p.epfd, events, timeout)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			p.h.log.Error("reactor: epoll_wait failed; poller stops", "err", err)
			return
		}
		again := p.ready
		p.ready = nil
		for i := range events[:n] {
			ev := &events[i]
			if int(ev.Fd) == p.wakefd {
				if p.woken() {
					return
				}
				continue
			}
			if c := p.lookup(ev.Fd); c != nil {
				p.onEvent(c, ev.Events)
			}
		}
		for _, c := range again {
			if c.readable(p.buf) {
				p.ready = append(p.ready, c)
			}
		}
	}
}

// onEvent serves one readiness report of c.
func (p *poller) onEvent(c *tcpConn, events uint32) {
	if events&(unix.EPOLLOUT|unix.EPOLLERR|unix.EPOLLHUP) != 0 {
		c.writable()
	}
	if events&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLERR|unix.EPOLLHUP) != 0 {
		if c.readable(p.buf) {
			p.ready = append(p.ready, c)
		}
	}
}

// woken drains the eventfd and reports whether the poller is stopping.
func (p *poller) woken() bool {
	var b [8]byte
	_, _ = unix.Read(p.wakefd, b[:])
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stopping
}

// close stops the goroutine (if it runs) and releases the epoll instance.
// Connections must be closed first.
func (p *poller) close() {
	p.mu.Lock()
	already := p.stopping
	p.stopping = true
	p.mu.Unlock()
	if already {
		return
	}
	if p.buf != nil {
		one := [8]byte{1}
		_, _ = unix.Write(p.wakefd, one[:])
		<-p.done
	}
	unix.Close(p.wakefd)
	unix.Close(p.epfd)
}
