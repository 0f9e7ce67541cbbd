package jsonrpc

import (
	"errors"
	"testing"
)

func TestInvalidUTF8NamesTheField(t *testing.T) {
	for _, c := range []struct {
		msg, field string
		bad        bool
	}{
		{`{"params":{"uid":"名字"}}`, "", false},
		{"{\"params\":{\"uid\":\"u\xff\"}}", "params.uid", true},
		{"{\"id\":\"1\",\"params\":{\"header\":{\"redDot\":true},\"channelId\":\"g\xc3\"}}", "params.channelId", true},
		{"{\"subscribers\":[\"a\",\"b\xfe\"]}", "subscribers", true},
		{"{\"a\":1,\"k\xff\":2}", "k\uFFFD", true},
		{"\"\xff\"", "body", true},
		{"{\"a\":\xff}", "body", true},
	} {
		field, bad := InvalidUTF8([]byte(c.msg))
		if field != c.field || bad != c.bad {
			t.Errorf("InvalidUTF8(%q) = %q, %v; want %q, %v", c.msg, field, bad, c.field, c.bad)
		}
	}
}

func TestDecodeRefusesInvalidUTF8NamingTheParam(t *testing.T) {
	req, err := Decode([]byte("{\"jsonrpc\":\"2.0\",\"id\":\"7\",\"method\":\"connect\",\"params\":{\"uid\":\"u\xff\",\"token\":\"t\"}}"))
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeInvalidParams || e.Message != "jsonrpc: params.uid: not valid UTF-8" {
		t.Fatalf("Decode: %v, want params.uid named", err)
	}
	if req.ID != "7" {
		t.Fatalf("the refusal lost the request id: %+v", req)
	}
}
