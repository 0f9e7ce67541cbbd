package reactor

import (
	"errors"
	"net"
	"os"
	"sync"
	"time"

	"github.com/jindou-im/jindou/runtime"
	"golang.org/x/sys/unix"
)

// listenBacklog is the client listener's accept backlog: the kernel's
// maximum (SOMAXCONN, itself capped by net.core.somaxconn), because a
// reconnect storm after a restart brings thousands of SYNs at once and the
// acceptor drains the backlog as fast as it can; a short one would refuse
// clients that merely arrived together.
const listenBacklog = unix.SOMAXCONN

// acceptor owns the TCP client listener: a non-blocking listening socket in
// its own epoll set, served by one goroutine that accepts and hands each
// socket to a poller.
type acceptor struct {
	h      *Host
	fd     int
	epfd   int
	wakefd int
	addr   *net.TCPAddr

	mu sync.Mutex
	// serving: the goroutine was started; stopping: it is told to end.
	// Guarded by mu.
	serving, stopping bool
	done              chan struct{}
}

// listenTCP binds and listens on addr (host:port).
func listenTCP(h *Host, addr string) (*acceptor, error) {
	ta, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		return nil, err
	}
	family, sa := sockaddr(ta)
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	a := &acceptor{h: h, fd: fd, epfd: -1, wakefd: -1, done: make(chan struct{})}
	if err := a.setup(sa); err != nil {
		a.release()
		return nil, err
	}
	return a, nil
}

func (a *acceptor) setup(sa unix.Sockaddr) error {
	if err := unix.SetsockoptInt(a.fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		return os.NewSyscallError("setsockopt", err)
	}
	if err := unix.Bind(a.fd, sa); err != nil {
		return os.NewSyscallError("bind", err)
	}
	if err := unix.Listen(a.fd, listenBacklog); err != nil {
		return os.NewSyscallError("listen", err)
	}
	bound, err := unix.Getsockname(a.fd)
	if err != nil {
		return os.NewSyscallError("getsockname", err)
	}
	a.addr = tcpAddr(bound)
	if a.epfd, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
		return os.NewSyscallError("epoll_create1", err)
	}
	if a.wakefd, err = unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC); err != nil {
		return os.NewSyscallError("eventfd", err)
	}
	for _, fd := range []int{a.fd, a.wakefd} {
		ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}
		if err := unix.EpollCtl(a.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
			return os.NewSyscallError("epoll_ctl", err)
		}
	}
	return nil
}

func (a *acceptor) serve() {
	a.mu.Lock()
	a.serving = true
	a.mu.Unlock()
	a.h.wg.Add(1)
	go func() {
		defer a.h.wg.Done()
		defer close(a.done)
		a.loop()
	}()
}

func (a *acceptor) loop() {
	events := make([]unix.EpollEvent, 2) // the epoll set holds two fds: the listener and wakefd
	for {
		n, err := unix.EpollWait(a.epfd, events, -1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			a.h.log.Error("reactor: acceptor epoll_wait failed; acceptor stops", "err", err)
			return
		}
		for _, ev := range events[:n] {
			if int(ev.Fd) == a.wakefd {
				return
			}
		}
		a.acceptAll()
	}
}

// acceptAll accepts until the backlog is empty. Out of descriptors, the
// reserve descriptors answer the backlog at once (fdcap.go); out of
// memory, accepting pauses briefly instead of spinning.
func (a *acceptor) acceptAll() {
	for {
		fd, sa, err := unix.Accept4(a.fd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		switch {
		case err == nil:
			a.h.fdcap.accepted()
			a.adopt(fd, sa)
		case errors.Is(err, unix.EAGAIN):
			return
		case errors.Is(err, unix.EINTR), errors.Is(err, unix.ECONNABORTED):
		case atCap(err):
			// Out of descriptors: the reserve answers what waits
			// (fdcap.go), logged once per episode.
			if a.h.fdcap.failed("tcp", a.fd, err, a.h.fdcap.holdTCP) {
				time.Sleep(acceptRetryPause)
			}
			return
		case errors.Is(err, unix.ENOBUFS), errors.Is(err, unix.ENOMEM):
			a.h.fdcap.failed("tcp", a.fd, err, nil)
			a.h.log.Warn("reactor: accept: out of memory; pausing", "err", err)
			time.Sleep(acceptRetryPause)
			return
		default:
			a.h.fdcap.failed("tcp", a.fd, err, nil)
			a.h.log.Error("reactor: accept failed", "err", err)
			return
		}
	}
}

func (a *acceptor) adopt(fd int, sa unix.Sockaddr) {
	_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	remote := ""
	if ra := tcpAddr(sa); ra != nil {
		remote = ra.String()
	}
	a.h.attachTCP(fd, runtime.ConnInfo{Listener: "tcp", RemoteAddr: remote})
}

// close stops accepting and closes the listening socket.
func (a *acceptor) close() {
	a.mu.Lock()
	if a.stopping {
		a.mu.Unlock()
		return
	}
	a.stopping = true
	serving := a.serving
	a.mu.Unlock()
	if serving {
		one := [8]byte{1}
		_, _ = unix.Write(a.wakefd, one[:])
		<-a.done
	}
	a.release()
}

func (a *acceptor) release() {
	for _, fd := range []int{a.fd, a.epfd, a.wakefd} {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
}

// sockaddr converts a resolved address to a socket family and sockaddr.
func sockaddr(ta *net.TCPAddr) (int, unix.Sockaddr) {
	if ip4 := ta.IP.To4(); ip4 != nil || ta.IP == nil {
		sa := &unix.SockaddrInet4{Port: ta.Port}
		copy(sa.Addr[:], ip4)
		return unix.AF_INET, sa
	}
	sa := &unix.SockaddrInet6{Port: ta.Port}
	copy(sa.Addr[:], ta.IP.To16())
	return unix.AF_INET6, sa
}

func tcpAddr(sa unix.Sockaddr) *net.TCPAddr {
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return &net.TCPAddr{IP: net.IP(sa.Addr[:]).To16(), Port: sa.Port}
	case *unix.SockaddrInet6:
		return &net.TCPAddr{IP: net.IP(sa.Addr[:]), Port: sa.Port}
	}
	return nil
}
