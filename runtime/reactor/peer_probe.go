package reactor

import (
	"bufio"
	"errors"
	"io"
	"net"
	"time"

	"github.com/jindou-im/jindou/runtime"
)

// ProbePeer dials the peer listener at addr, presents this host's hello
// (its node id, the cluster token and card, SetPeerAuth) and reads the
// peer's: which node answers there, and its card. A node given a member by
// address only (jindou's cluster_join) learns that member's id so, before
// it starts. The connection is closed after; no frame is sent.
func (h *Host) ProbePeer(addr string, timeout time.Duration) (runtime.NodeID, []byte, error) {
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return 0, nil, err
	}
	defer conn.Close()
	if err := h.tr.writeHello(conn); err != nil {
		return 0, nil, err
	}
	hl, err := h.tr.readHello(conn, bufio.NewReaderSize(conn, 64))
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || closedByPeer(err) {
		err = errRefusedByPeer
	}
	if err != nil {
		return 0, nil, err
	}
	return hl.from, hl.card, nil
}
