package proto

// Decoder splits one connection's inbound byte stream into packets. It is
// not safe for concurrent use; a connection's loop owns it.
//
// Use: Feed each chunk read from the connection, then call Next until it
// returns nil, nil. Frames may be split across chunks anywhere, and one
// chunk may hold many frames.
//
// Ownership: byte fields of returned packets (Send.Payload, Recv.Payload,
// Event.Data) alias the decoder's buffer and stay valid until the next call
// to Feed. Strings are copied.
//
// Memory: the buffer holds at most one incomplete frame plus the chunk last
// fed. A frame whose declared length exceeds the maximum is an error as soon
// as its length bytes arrive; nothing is ever allocated from a declared
// length.
type Decoder struct {
	buf     []byte // buf[off:] is unread input
	off     int    // invariant: 0 <= off <= len(buf)
	maxBody int    // largest body accepted; > 0
	version uint8  // 0 until SetVersion; then MinVersion..LatestVersion
	err     error  // sticky: once the stream is malformed it stays so
}

// NewDecoder returns a decoder that accepts bodies of at most maxFrameSize
// bytes (DefaultMaxFrameSize if maxFrameSize <= 0). Until SetVersion is
// called it decodes only CONNECT, PING and PONG.
func NewDecoder(maxFrameSize int) *Decoder {
	if maxFrameSize <= 0 {
		maxFrameSize = DefaultMaxFrameSize
	}
	return &Decoder{maxBody: min(maxFrameSize, maxRemainingLength)}
}

// SetVersion sets the negotiated version for every later frame; call it
// after the CONNECT, before the next call to Next.
func (d *Decoder) SetVersion(v uint8) { d.version = v }

// Version is the version frames are decoded at (0 before SetVersion).
func (d *Decoder) Version() uint8 { return d.version }

// Buffered is the number of bytes fed but not yet returned as frames.
func (d *Decoder) Buffered() int { return len(d.buf) - d.off }

// Feed appends a chunk of the stream. It invalidates byte fields of packets
// returned before it.
func (d *Decoder) Feed(chunk []byte) {
	if d.off > 0 {
		n := copy(d.buf, d.buf[d.off:])
		d.buf, d.off = d.buf[:n], 0
	}
	d.buf = append(d.buf, chunk...)
}

// NextFrame returns the next complete frame, undecoded; ok is false when
// more input is needed. After an error every call returns that error.
func (d *Decoder) NextFrame() (f Frame, ok bool, err error) {
	if d.err != nil {
		return Frame{}, false, d.err
	}
	f, n, err := ParseFrame(d.buf[d.off:], d.maxBody)
	if err != nil {
		d.err = err
		return Frame{}, false, err
	}
	if n == 0 {
		return Frame{}, false, nil
	}
	d.off += n
	return f, true, nil
}

// Next returns the next packet, or nil, nil when more input is needed.
func (d *Decoder) Next() (Packet, error) {
	f, ok, err := d.NextFrame()
	if !ok {
		return nil, err
	}
	p, err := f.Decode(d.version)
	if err != nil {
		d.err = err
	}
	return p, err
}
