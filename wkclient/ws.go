package wkclient

import (
	"errors"
	"io"
	"net"
	"time"

	"github.com/gorilla/websocket"
)

// DialWS connects to url (ws://host:port) and logs in.
func DialWS(url string, o Options) (*NetClient, error) {
	o.defaults()
	d := websocket.Dialer{HandshakeTimeout: o.Timeout, ReadBufferSize: 1024, WriteBufferSize: 1024}
	ws, _, err := d.Dial(url, nil)
	if err != nil {
		return nil, err
	}
	return login(&wsTransport{ws: ws}, o)
}

// wsTransport carries the stream in binary messages. Each write is one
// message; the drivers write one operation's frames per write.
type wsTransport struct{ ws *websocket.Conn }

func (t *wsTransport) write(b []byte) error { return t.ws.WriteMessage(websocket.BinaryMessage, b) }

// read maps a close frame to io.EOF, so that a server closing looks the
// same over WebSocket as over TCP (ErrClosed).
func (t *wsTransport) read() ([]byte, error) {
	_, b, err := t.ws.ReadMessage()
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return nil, io.EOF
	}
	return b, err
}
func (t *wsTransport) setReadDeadline(d time.Time) error { return t.ws.SetReadDeadline(d) }
func (t *wsTransport) close() error                      { return t.ws.Close() }
func (t *wsTransport) raw() net.Conn                     { return t.ws.NetConn() }
