package scenarios

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
	"github.com/jindou-im/jindou/node"
	"github.com/jindou-im/jindou/node/proto"
)

// api ROUTE args...
//
//	api channel id=G [subscribers=(a,b)] [ban] [send-ban] [disband]
//	api subscribers id=G add=(a,b) | remove=(a,b)
//	api list id=ID [type=person|group] list=blacklist|whitelist op=add|set|remove|remove_all [uids=(a,b)]
//	api token uid=U token=T [flag=app] [level=master|slave]
//	api send [from=U] to=ID [type=person|group] [msgno=M]    (input: the payload)
//	api sync login=U channel=ID [type=person|group] [start=N] [end=N] [limit=N] [mode=up|down]
//	api maxseq login=U channel=ID [type=person|group]
//	api conversations uid=U
//	api online uids=(a,b)
//
// Runs one command of the node's API (the HTTP routes' core) and prints its
// reply.
func (e *Env) cmdAPI(t testing.TB, td *datadriven.TestData) error {
	if len(td.CmdArgs) == 0 {
		return fmt.Errorf("api needs a route")
	}
	route := td.CmdArgs[0].Key
	req, print, err := e.apiRequest(route, td)
	if err != nil {
		return err
	}
	at, err := e.target(td)
	if err != nil {
		return err
	}
	reply, err := e.b.call(at, req)
	if err != nil {
		return err
	}
	print(reply)
	return e.runFor(100 * time.Millisecond)
}

func channelArg(td *datadriven.TestData, key, defType string) node.ChannelKey {
	typ := proto.ChannelGroup
	if arg(td, "type", defType) == "person" {
		typ = proto.ChannelPerson
	}
	return node.ChannelKey{Type: typ, ID: arg(td, key, "")}
}

func (e *Env) apiRequest(route string, td *datadriven.TestData) (node.Request, func(any), error) {
	ok := func(any) { e.printf("ok") }
	switch route {
	case "channel":
		info := node.ChannelInfo{Ban: hasArg(td, "ban"), SendBan: hasArg(td, "send-ban"), Disband: hasArg(td, "disband")}
		return node.ChannelUpsert{Channel: channelArg(td, "id", "group"), Info: info, Subscribers: list(td, "subscribers")}, ok, nil
	case "subscribers":
		if uids := list(td, "remove"); uids != nil {
			return node.Subscribers{Channel: channelArg(td, "id", "group"), Remove: true, Subscribers: uids}, ok, nil
		}
		return node.Subscribers{Channel: channelArg(td, "id", "group"), Subscribers: list(td, "add")}, ok, nil
	case "list":
		return node.ListUpdate{Channel: channelArg(td, "id", "group"), List: arg(td, "list", ""), Op: arg(td, "op", ""), UIDs: list(td, "uids")}, ok, nil
	case "token":
		level := uint8(1)
		if arg(td, "level", "master") == "slave" {
			level = 0
		}
		return node.UserToken{UID: arg(td, "uid", ""), Token: arg(td, "token", ""), DeviceFlag: uint8(deviceFlags[arg(td, "flag", "app")]), DeviceLevel: level}, ok, nil
	case "send":
		req := node.SendMessage{FromUID: arg(td, "from", ""), Channel: channelArg(td, "to", "person"), ClientMsgNo: arg(td, "msgno", ""), Payload: []byte(td.Input)}
		return req, func(r any) { e.printf("seq=%d", r.(node.SendReply).MessageSeq) }, nil
	case "sync":
		return e.syncRequest(td)
	case "maxseq":
		return node.MaxSeq{LoginUID: arg(td, "login", ""), Channel: channelArg(td, "channel", "group")}, func(r any) { e.printf("max seq %d", r.(uint64)) }, nil
	case "conversations":
		uid := arg(td, "uid", "")
		return node.ConversationSync{UID: uid, MsgCount: 1}, func(r any) { e.printConversations(uid, r) }, nil
	case "online":
		return node.OnlineStatus{UIDs: list(td, "uids")}, func(r any) {
			for _, c := range r.([]node.OnlineConn) {
				e.printf("%s flag=%d online", c.UID, c.DeviceFlag)
			}
		}, nil
	}
	return nil, nil, fmt.Errorf("unknown api route %q", route)
}

func (e *Env) syncRequest(td *datadriven.TestData) (node.Request, func(any), error) {
	num := func(key string) (uint64, error) {
		v, err := strconv.ParseUint(arg(td, key, "0"), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", key, err)
		}
		return v, nil
	}
	start, err := num("start")
	if err != nil {
		return nil, nil, err
	}
	end, err := num("end")
	if err != nil {
		return nil, nil, err
	}
	limit, err := num("limit")
	if err != nil {
		return nil, nil, err
	}
	mode := node.PullDown
	if arg(td, "mode", "down") == "up" {
		mode = node.PullUp
	}
	req := node.MessageSync{LoginUID: arg(td, "login", ""), Channel: channelArg(td, "channel", "group"), Start: start, End: end, Limit: int(limit), PullMode: mode}
	return req, func(r any) {
		s := r.(node.SyncReply)
		for _, m := range s.Messages {
			e.printf("seq=%d from=%s %s %q", m.Seq, m.FromUID, m.ClientMsgNo, m.Payload)
		}
		e.printf("more=%d", s.More)
	}, nil
}

func (e *Env) printConversations(uid string, r any) {
	for _, c := range r.([]node.Conversation) {
		last := ""
		if len(c.Recents) > 0 {
			last = fmt.Sprintf(" last=%q", c.Recents[len(c.Recents)-1].Payload)
		}
		e.printf("%s/%d unread=%d last_seq=%d read_to=%d%s", c.Channel.PeerOf(uid), c.Channel.Type, c.Unread, c.LastMsgSeq, c.ReadToMsgSeq, last)
	}
}
