package proclog

import (
	"strings"
	"testing"
)

func TestScanKeepsEveryLineAndHandsOverTheFirstServingLine(t *testing.T) {
	l := New()
	done := make(chan struct{})
	in := `{"msg":"starting"}
not json
{"msg":"serving","tcp":"127.0.0.1:1"}
{"msg":"serving","tcp":"127.0.0.1:2"}
`
	l.Scan(strings.NewReader(in), done)
	<-done
	if got := l.String(); got != in {
		t.Fatalf("kept %q, want %q", got, in)
	}
	select {
	case f := <-l.Serving:
		if f["tcp"] != "127.0.0.1:1" {
			t.Fatalf("serving line %v, want the first", f)
		}
	default:
		t.Fatal("no serving line handed over")
	}
	if got := l.Tail(2); got != `{"msg":"serving","tcp":"127.0.0.1:1"}`+"\n"+`{"msg":"serving","tcp":"127.0.0.1:2"}` {
		t.Fatalf("tail %q", got)
	}
}
