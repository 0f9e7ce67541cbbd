package http

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	nethttp "net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/node/jsonrpc"
	"github.com/jindou-im/jindou/node/proto"
)

// decode reads the request's JSON body into v. Fields of the wrong type
// are named ("channel_type: expected a number 0..255, got string"); a
// body that is not JSON, or holds more than one value, is a 400 naming
// "body". Unknown fields are ignored, as WuKongIM does, so that back ends
// sending fields Jindou does not use keep working. A string that is not
// valid UTF-8 is a 400 naming its field.
func decode(c echo.Context, v any) error {
	body, err := readBody(c.Request())
	if err != nil {
		return bodyReadError(c, err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return badRequest("body", "a JSON body is required")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return jsonError(err)
	}
	if field, bad := jsonrpc.InvalidUTF8(body); bad {
		// encoding/json read those bytes as U+FFFD: another uid or channel
		// than the client meant.
		return badRequest(field, "not valid UTF-8")
	}
	return nil
}

// readBody reads a body whole into one buffer of its declared length (no
// growing copies; limitRequests bounded it).
func readBody(r *nethttp.Request) ([]byte, error) {
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength) + bytes.MinRead) // ReadFrom wants MinRead free to see EOF
	}
	_, err := buf.ReadFrom(r.Body)
	return buf.Bytes(), err
}

// jsonError names the field a decoding error is about.
func jsonError(err error) error {
	var (
		te *json.UnmarshalTypeError
		se *json.SyntaxError
	)
	switch {
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "body"
		}
		return badRequest(field, "expected %s, got %s", typeName(te.Type.String()), te.Value)
	case errors.As(err, &se) && strings.Contains(se.Error(), "after top-level value"):
		return badRequest("body", "unexpected data after the JSON value")
	case errors.As(err, &se):
		return badRequest("body", "malformed JSON at offset %d: %v", se.Offset, se)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("body", "malformed JSON: unexpected end of input")
	}
	return badRequest("body", "malformed JSON: %v", err)
}

// typeName says what a Go type means in JSON terms.
func typeName(t string) string {
	switch t {
	case "uint8":
		return "an integer 0..255"
	case "uint32":
		return "a non-negative 32-bit integer"
	case "uint64":
		return "a non-negative integer"
	case "int", "int64":
		return "an integer"
	case "string":
		return "a string"
	case "[]string":
		return "an array of strings"
	case "[]uint64":
		return "an array of non-negative integers"
	case "[]uint8":
		return "an array of integers 0..255"
	case "bool", "http.flag":
		return "0, 1, true or false"
	}
	return "a " + t
}

// flag is a 0/1 switch as WuKongIM's API writes it (an int); true and false
// are accepted too.
type flag bool

func (f *flag) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case "0", "false", "null":
		*f = false
	case "1", "true":
		*f = true
	default:
		return &json.UnmarshalTypeError{Value: "value " + string(b), Type: flagType}
	}
	return nil
}

var flagType = reflect.TypeFor[flag]()

// header is a message header as the API writes it: 0/1 ints.
type header struct {
	NoPersist flag `json:"no_persist"`
	RedDot    flag `json:"red_dot"`
	SyncOnce  flag `json:"sync_once"`
}

// decodePayload decodes a base64 payload (standard alphabet, padded or
// not), naming field when it is not base64.
func decodePayload(field, s string) ([]byte, error) {
	if s == "" {
		return nil, required(field)
	}
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	b, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return nil, badRequest(field, "invalid base64: %v", err)
	}
	return b, nil
}

// channelType checks a channel type named in a request: it must be given
// and be one Jindou serves.
func channelType(t uint8) (proto.ChannelType, error) {
	switch {
	case t == 0:
		return 0, badRequest("channel_type", "required (%s)", node.SupportedTypesText)
	case !node.SupportedChannelType(proto.ChannelType(t)):
		return 0, badRequest("channel_type", "unknown or unsupported channel type %d (%s)", t, node.SupportedTypesText)
	}
	return proto.ChannelType(t), nil
}

// queryUint parses query parameter name as an unsigned integer of bits
// bits; empty gives def.
func queryUint(c echo.Context, name string, bits int, def uint64) (uint64, error) {
	s := c.QueryParam(name)
	if s == "" {
		return def, nil
	}
	v, err := strconv.ParseUint(s, 10, bits)
	if err != nil {
		return 0, badRequest(name, "expected a non-negative integer below 2^%d, got %q", bits, s)
	}
	return v, nil
}

// nonEmpty reports whether list has a non-blank entry.
func nonEmpty(list []string) bool {
	for _, s := range list {
		if strings.TrimSpace(s) != "" {
			return true
		}
	}
	return false
}

// queryChannel is the channel named by the query parameters channel_id and
// channel_type.
func queryChannel(c echo.Context) (node.ChannelKey, error) {
	typ, err := queryUint(c, "channel_type", 8, 0)
	if err != nil {
		return node.ChannelKey{}, err
	}
	return channelKey(c.QueryParam("channel_id"), uint8(typ))
}
