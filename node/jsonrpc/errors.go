package jsonrpc

// Error is a JSON-RPC error object: {"code": ..., "message": ...}.
type Error struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Message }

// Error codes. A refused connect carries its CONNACK reason code (as
// WuKongIM's connect error does); malformed input carries JSON-RPC 2.0's
// standard codes (WuKongIM sends 0 there, which names nothing).
const (
	CodeParse          = -32700 // not JSON, or not an object
	CodeInvalidRequest = -32600 // not a valid request or notification
	CodeMethodNotFound = -32601 // a method the server does not take
	CodeInvalidParams  = -32602 // params missing or of the wrong shape
)
