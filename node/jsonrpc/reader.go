package jsonrpc

import "fmt"

// Reader splits a connection's inbound bytes into top-level JSON objects.
// Objects may be split across chunks and several may share one; only
// whitespace may stand between them. It is not safe for concurrent use.
type Reader struct {
	buf      []byte // unread input; buf[:scan] was scanned with the state below
	scan     int
	depth    int
	inString bool
	escaped  bool
	maxBytes int
	err      error // sticky
}

// NewReader returns a Reader refusing objects over maxBytes bytes.
func NewReader(maxBytes int) *Reader { return &Reader{maxBytes: maxBytes} }

// IsObjectStart reports whether b, the first bytes of a connection, begin
// a JSON object (after optional whitespace), as WuKongIM decides that a
// connection speaks JSON-RPC. A WKProto frame never starts with '{'
// (0x7b would be a PING with flags, which is malformed).
func IsObjectStart(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		case '{':
			return true
		}
		return false
	}
	return false
}

// Feed appends a chunk of the stream.
func (r *Reader) Feed(b []byte) { r.buf = append(r.buf, b...) }

// Next returns the next complete object (valid until the next Feed), or
// nil, nil when more input is needed. After an error every call returns it.
func (r *Reader) Next() ([]byte, error) {
	if r.err != nil {
		return nil, r.err
	}
	if r.depth == 0 {
		r.skipSpace()
		if len(r.buf) == 0 {
			return nil, nil
		}
		if r.buf[0] != '{' {
			r.err = &Error{Code: CodeParse, Message: fmt.Sprintf("jsonrpc: expected an object, got %q", r.buf[0])}
			return nil, r.err
		}
	}
	for ; r.scan < len(r.buf); r.scan++ {
		if r.step(r.buf[r.scan]) {
			obj := r.buf[:r.scan+1]
			r.buf, r.scan = r.buf[r.scan+1:], 0
			return obj, nil
		}
	}
	if len(r.buf) > r.maxBytes {
		r.err = &Error{Code: CodeInvalidRequest, Message: fmt.Sprintf("jsonrpc: message over %d bytes", r.maxBytes)}
		return nil, r.err
	}
	return nil, nil
}

func (r *Reader) skipSpace() {
	i := 0
	for i < len(r.buf) && (r.buf[i] == ' ' || r.buf[i] == '\t' || r.buf[i] == '\n' || r.buf[i] == '\r') {
		i++
	}
	r.buf = r.buf[i:]
}

// step advances the scan over c; it reports whether c closed the object.
func (r *Reader) step(c byte) bool {
	switch {
	case r.inString && r.escaped:
		r.escaped = false
	case r.inString && c == '\\':
		r.escaped = true
	case r.inString && c == '"':
		r.inString = false
	case r.inString:
	case c == '"':
		r.inString = true
	case c == '{' || c == '[':
		r.depth++
	case c == '}' || c == ']':
		r.depth--
		return r.depth == 0
	}
	return false
}
