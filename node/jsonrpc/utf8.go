package jsonrpc

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// InvalidUTF8 names the first member of msg, a JSON text, whose key or
// string value is not valid UTF-8: the keys leading to it, dotted
// ("params.uid"; an array's items are named by the array's key), or
// "body" at the top level or when msg does not parse. bad is false when
// all of msg is valid UTF-8.
//
// encoding/json replaces such bytes with U+FFFD silently, so a uid or a
// channel id would arrive as another one; this lets a decoder refuse the
// message instead, naming the field.
func InvalidUTF8(msg []byte) (field string, bad bool) {
	if utf8.Valid(msg) {
		return "", false
	}
	dec := json.NewDecoder(bytes.NewReader(msg))
	var stack []utf8Frame
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return "body", true
		}
		var top *utf8Frame
		if len(stack) > 0 {
			top = &stack[len(stack)-1]
		}
		s, isString := tok.(string)
		isKey := isString && top != nil && top.obj && top.wantKey
		if isKey {
			top.key, top.wantKey = s, false
		}
		if isString && !utf8.Valid(msg[start:dec.InputOffset()]) {
			return utf8Path(stack), true
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			stack = append(stack, utf8Frame{obj: tok == json.Delim('{'), wantKey: true})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 0 && !isKey {
			stack[len(stack)-1].wantKey = true // a member's value ended
		}
	}
}

// utf8Frame is an object or array InvalidUTF8 is inside: for an object,
// the key last read and whether a key comes next.
type utf8Frame struct {
	obj     bool
	key     string
	wantKey bool
}

func utf8Path(stack []utf8Frame) string {
	var keys []string
	for _, f := range stack {
		if f.obj && f.key != "" {
			keys = append(keys, f.key)
		}
	}
	if len(keys) == 0 {
		return "body"
	}
	return strings.Join(keys, ".")
}
