package node

import (
	"encoding/hex"
	"errors"
	"fmt"
	"slices"

	"github.com/jindou-im/jindou/node/jsonrpc"
	"github.com/jindou-im/jindou/node/proto"
)

// JSON-RPC connections: a connection whose first bytes open a JSON object
// speaks WuKongIM's JSON-RPC protocol (node/jsonrpc) instead of WKProto.
// Its messages become the same packets and go through the same handlers;
// only reading and writing differ, and its payloads are not encrypted (as
// in WuKongIM: a JSON-RPC CONNACK carries no server key).

// rpcConn is the JSON-RPC state of a connection: its reader and the ids
// of the requests that await an answer.
type rpcConn struct {
	reader    *jsonrpc.Reader
	connectID string
	// sendIDs are the ids of SENDs by the client_seq the gateway gave
	// them; pingIDs the pings not yet answered, in order; subIDs the
	// subscribe requests by sub_no.
	sendIDs map[uint32]string
	nextSeq uint32
	pingIDs []string
	subIDs  map[string]string
}

// feed takes a chunk of c's input: the first chunk decides the protocol.
func (g *gateway) feed(c *client, data []byte) {
	if c.rpc == nil && c.state == stateConnecting && c.dec.Buffered() == 0 && jsonrpc.IsObjectStart(data) {
		c.rpc = &rpcConn{reader: jsonrpc.NewReader(g.n.cfg.MaxFrameSize)}
	}
	if c.rpc != nil {
		c.rpc.reader.Feed(data)
		return
	}
	c.dec.Feed(data)
}

// processRPC handles the JSON-RPC messages buffered for c, pausing while
// its login is being checked.
func (g *gateway) processRPC(c *client) {
	for c.state == stateConnecting || c.state == stateReady {
		msg, err := c.rpc.reader.Next()
		if err != nil {
			g.rpcFatal(c, "", err)
			return
		}
		if msg == nil {
			return
		}
		c.inMsgs++
		g.stats.InMsgs++
		req, err := jsonrpc.Decode(msg)
		switch {
		case err != nil && c.state == stateConnecting:
			g.rpcFatal(c, req.ID, err)
		case err != nil:
			// As WuKongIM: an authenticated connection is told and stays.
			g.writeRPCError(c, req.ID, err)
		case c.state == stateConnecting && req.Method != jsonrpc.MethodConnect:
			g.rpcFatal(c, req.ID, &jsonrpc.Error{Code: jsonrpc.CodeInvalidRequest,
				Message: fmt.Sprintf("jsonrpc: %s before connect: the connection is not authenticated", req.Method)})
		default:
			g.onRPC(c, req)
		}
	}
}

// onRPC notes what the answer to req needs, then handles its packet as
// a WKProto one.
func (g *gateway) onRPC(c *client, req jsonrpc.Request) {
	switch p := req.Packet.(type) {
	case *proto.Connect:
		if c.state == stateReady {
			g.writeRPCError(c, req.ID, &jsonrpc.Error{Code: jsonrpc.CodeInvalidRequest, Message: "jsonrpc: already connected"})
			return
		}
		c.rpc.connectID = req.ID
	case *proto.Send:
		c.rpc.nextSeq++
		p.ClientSeq = c.rpc.nextSeq
		if p.ClientMsgNo == "" {
			p.ClientMsgNo = g.newClientMsgNo() // as WuKongIM: a UUID
		}
		if c.rpc.sendIDs == nil {
			c.rpc.sendIDs = map[uint32]string{}
		}
		c.rpc.sendIDs[p.ClientSeq] = req.ID
	case *proto.Ping:
		c.rpc.pingIDs = append(c.rpc.pingIDs, req.ID)
	case *proto.Sub:
		if c.rpc.subIDs == nil {
			c.rpc.subIDs = map[string]string{}
		}
		c.rpc.subIDs[p.SubNo] = req.ID
	}
	g.onPacket(c, req.Packet)
}

// newClientMsgNo is a random UUID (version 4) from the gateway's stream.
func (g *gateway) newClientMsgNo() string {
	var b [16]byte
	if _, err := g.rnd.Read(b[:]); err != nil {
		panic(fmt.Sprintf("node: random stream: %v", err))
	}
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// encodeRPC is p as the JSON-RPC message for c, taking the id of the
// request it answers.
func (g *gateway) encodeRPC(c *client, p proto.Packet) []byte {
	var id string
	switch p := p.(type) {
	case *proto.Connack:
		id = c.rpc.connectID
	case *proto.Sendack:
		id = c.rpc.sendIDs[p.ClientSeq]
		delete(c.rpc.sendIDs, p.ClientSeq)
	case *proto.Pong:
		if len(c.rpc.pingIDs) > 0 {
			id = c.rpc.pingIDs[0]
			c.rpc.pingIDs = slices.Delete(c.rpc.pingIDs, 0, 1)
		}
	case *proto.Suback:
		id = c.rpc.subIDs[p.SubNo]
		delete(c.rpc.subIDs, p.SubNo)
	}
	msg, err := jsonrpc.Encode(id, p)
	if err != nil {
		panic(fmt.Sprintf("node: encode %s as JSON-RPC: %v", p.Type(), err))
	}
	return msg
}

func (g *gateway) writeRPCError(c *client, id string, err error) {
	var e *jsonrpc.Error
	if !errors.As(err, &e) {
		e = &jsonrpc.Error{Code: jsonrpc.CodeInvalidRequest, Message: err.Error()}
	}
	g.writeRaw(c, jsonrpc.EncodeError(id, e))
}

// rpcFatal answers with an error response and closes the connection.
func (g *gateway) rpcFatal(c *client, id string, err error) {
	g.writeRPCError(c, id, err)
	g.close(c)
}
