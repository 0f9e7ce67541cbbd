package node

import (
	"slices"
	"strings"

	"github.com/jindou-im/jindou/node/proto"
)

// Users and connections.

// UserToken sets a user's token for a device flag (POST /user/token). A
// master-level token disconnects the user's connections of that flag.
// Reply: nil.
type UserToken struct {
	UID         string
	Token       string
	DeviceFlag  uint8
	DeviceLevel uint8
}

func (r UserToken) run(a *apiLoop, done func(any, error)) error {
	if err := checkUID("uid", r.UID); err != nil {
		return err
	}
	slotID := slotOfUser(r.UID, a.n.cfg.Slots)
	cmd := &command{Op: opToken, UID: r.UID, Flag: int(r.DeviceFlag), Token: r.Token, Level: r.DeviceLevel}
	a.propose(slotID, cmd, func(_ applyResult, err error) {
		if err == nil && proto.DeviceLevel(r.DeviceLevel) == proto.DeviceMaster {
			a.n.broadcastGateways(kickMsg{uid: r.UID, flag: int(r.DeviceFlag), reason: "token changed"})
		}
		done(nil, err)
	})
	return nil
}

// DeviceQuit clears a user's token of a device flag (-1: all) and
// disconnects those connections (POST /user/device_quit). Reply: nil.
type DeviceQuit struct {
	UID        string
	DeviceFlag int
}

func (r DeviceQuit) run(a *apiLoop, done func(any, error)) error {
	if err := checkUID("uid", r.UID); err != nil {
		return err
	}
	cmd := &command{Op: opTokenClear, UID: r.UID, Flag: r.DeviceFlag}
	a.propose(slotOfUser(r.UID, a.n.cfg.Slots), cmd, func(_ applyResult, err error) {
		a.n.broadcastGateways(kickMsg{uid: r.UID, flag: r.DeviceFlag, reason: "device quit"})
		done(nil, err)
	})
	return nil
}

// OnlineConn is one online connection.
type OnlineConn struct {
	UID        string `json:"uid"`
	DeviceFlag uint8  `json:"device_flag"`
	Online     int    `json:"online"`
}

// OnlineStatus lists the online connections of uids (POST
// /user/onlinestatus). Reply: []OnlineConn.
type OnlineStatus struct{ UIDs []string }

func (r OnlineStatus) run(a *apiLoop, done func(any, error)) error {
	gatherGateways(a, func(g *gateway) []OnlineConn {
		var out []OnlineConn
		for _, uid := range r.UIDs {
			for _, c := range g.online[uid] {
				out = append(out, OnlineConn{UID: uid, DeviceFlag: uint8(c.flag), Online: 1})
			}
		}
		return out
	}, func(parts [][]OnlineConn) {
		out := []OnlineConn{}
		for _, p := range parts {
			out = append(out, p...)
		}
		done(out, nil)
	})
	return nil
}

// SystemUIDs changes or lists the system accounts (POST
// /user/systemuids_add, _remove; GET /user/systemuids). Op is "add",
// "remove" or "" to list. Reply: nil, or []string for a list.
type SystemUIDs struct {
	Op   string
	UIDs []string
}

func (r SystemUIDs) run(a *apiLoop, done func(any, error)) error {
	if r.Op == "" {
		query(a, 0, func(rd pebbleReader, _ *slotLoop) []string {
			uids := readMembers(rd, tableKey(0, tblSystemUID))
			if uids == nil {
				uids = []string{}
			}
			return uids
		}, func(u []string) { done(u, nil) })
		return nil
	}
	if err := checkUIDs("uids", r.UIDs); err != nil {
		return err
	}
	op := opSystemAdd
	if r.Op == "remove" {
		op = opSystemRemove
	}
	a.proposeReply(0, &command{Op: op, UIDs: r.UIDs}, done)
	return nil
}

// Channels.

// ChannelUpsert creates or updates a channel and adds subscribers (POST
// /channel). Reply: nil.
type ChannelUpsert struct {
	Channel     ChannelKey
	Info        ChannelInfo
	Reset       bool
	Subscribers []string
}

func (r ChannelUpsert) run(a *apiLoop, done func(any, error)) error {
	if err := checkChannel(r.Channel); err != nil {
		return err
	}
	if r.Channel.Type == proto.ChannelPerson && len(r.Subscribers) > 0 {
		return errNoSubscribersForPerson
	}
	if err := checkUIDs("subscribers", r.Subscribers); err != nil {
		return err
	}
	info := r.Info
	cmd := &command{Op: opChannel, Ch: r.Channel, Info: &info, Reset: r.Reset, UIDs: r.Subscribers}
	a.proposeReply(slotOfChannel(r.Channel, a.n.cfg.Slots), cmd, done)
	return nil
}

// ChannelInfoUpdate updates a channel's info only (POST /channel/info).
// Reply: nil.
type ChannelInfoUpdate struct {
	Channel ChannelKey
	Info    ChannelInfo
}

func (r ChannelInfoUpdate) run(a *apiLoop, done func(any, error)) error {
	if err := checkChannel(r.Channel); err != nil {
		return err
	}
	info := r.Info
	cmd := &command{Op: opChannelInfo, Ch: r.Channel, Info: &info}
	a.proposeReply(slotOfChannel(r.Channel, a.n.cfg.Slots), cmd, done)
	return nil
}

// ChannelDelete deletes a channel's info, subscribers and lists (POST
// /channel/delete). Reply: nil.
type ChannelDelete struct{ Channel ChannelKey }

func (r ChannelDelete) run(a *apiLoop, done func(any, error)) error {
	if err := checkChannel(r.Channel); err != nil {
		return err
	}
	cmd := &command{Op: opChannelDelete, Ch: r.Channel}
	a.proposeReply(slotOfChannel(r.Channel, a.n.cfg.Slots), cmd, done)
	return nil
}

// Subscribers adds (Remove false) or removes subscribers (POST
// /channel/subscriber_add, _remove). Adding creates the channel. Reply: nil.
type Subscribers struct {
	Channel     ChannelKey
	Remove      bool
	Reset       bool
	Subscribers []string
}

func (r Subscribers) run(a *apiLoop, done func(any, error)) error {
	if err := checkChannel(r.Channel); err != nil {
		return err
	}
	if r.Channel.Type == proto.ChannelPerson {
		return errNoSubscribersForPerson
	}
	if err := checkUIDs("subscribers", r.Subscribers); err != nil {
		return err
	}
	op := opSubAdd
	if r.Remove {
		op = opSubRemove
	}
	cmd := &command{Op: op, Ch: r.Channel, Reset: r.Reset, UIDs: r.Subscribers}
	a.proposeReply(slotOfChannel(r.Channel, a.n.cfg.Slots), cmd, done)
	return nil
}

// ListUpdate changes a channel's blacklist or whitelist (POST
// /channel/blacklist_*, /channel/whitelist_*). For a person channel,
// Channel.ID is the protected user. Op is add, set, remove or remove_all.
// Reply: nil.
type ListUpdate struct {
	Channel ChannelKey
	List    string // "blacklist" or "whitelist"
	Op      string
	UIDs    []string
}

func (r ListUpdate) run(a *apiLoop, done func(any, error)) error {
	if err := checkChannel(r.Channel); err != nil {
		return err
	}
	table, err := listTable(r.List)
	if err != nil {
		return err
	}
	if !slices.Contains([]string{listAdd, listSet, listRemove, listRemoveAll}, r.Op) {
		return &BadRequest{Field: "op", Msg: "must be add, set, remove or remove_all"}
	}
	if err := checkUIDs("uids", r.UIDs); err != nil {
		return err
	}
	cmd := &command{Op: opList, Ch: r.Channel, Table: table, ListOp: r.Op, UIDs: r.UIDs}
	a.proposeReply(slotOfChannel(r.Channel, a.n.cfg.Slots), cmd, done)
	return nil
}

func listTable(list string) (byte, error) {
	switch list {
	case "blacklist":
		return tblBlacklist, nil
	case "whitelist":
		return tblWhitelist, nil
	}
	return 0, &BadRequest{Field: "list", Msg: ErrUnknownList.Error()}
}

// ListGet lists a channel's whitelist or blacklist (GET
// /channel/whitelist). Reply: []string.
type ListGet struct {
	Channel ChannelKey
	List    string
}

func (r ListGet) run(a *apiLoop, done func(any, error)) error {
	if err := checkChannel(r.Channel); err != nil {
		return err
	}
	table, err := listTable(r.List)
	if err != nil {
		return err
	}
	slotID := slotOfChannel(r.Channel, a.n.cfg.Slots)
	query(a, slotID, func(rd pebbleReader, _ *slotLoop) []string {
		uids := readMembers(rd, memberPrefix(slotID, table, r.Channel))
		if uids == nil {
			uids = []string{}
		}
		return uids
	}, func(u []string) { done(u, nil) })
	return nil
}

// Messages.

// SendMessage sends a message as FromUID, answering once it is durable
// (POST /message/send). A person channel is named by the recipient's uid.
// With an empty channel id, it sends a person message to each of
// Subscribers. An empty FromUID sends as SystemUID; it and the system uids
// bypass permission checks. Reply: SendReply (of the last message when
// several).
type SendMessage struct {
	Header      Header
	ClientMsgNo string
	FromUID     string
	Channel     ChannelKey
	Expire      uint32
	Subscribers []string
	Payload     []byte
}

// SendReply is the outcome of a durable send.
type SendReply struct {
	MessageID   int64  `json:"message_id"`
	ClientMsgNo string `json:"client_msg_no"`
	MessageSeq  uint64 `json:"message_seq"`
}

func (r SendMessage) run(a *apiLoop, done func(any, error)) error {
	if r.FromUID != "" {
		if err := checkUID("from_uid", r.FromUID); err != nil {
			return err
		}
	}
	if len(r.Payload) == 0 {
		return &BadRequest{Field: "payload", Msg: "must be non-empty base64"}
	}
	targets := []ChannelKey{r.Channel}
	if r.Channel.ID == "" {
		if len(r.Subscribers) == 0 {
			return &BadRequest{Field: "channel_id", Msg: "required (or subscribers for person messages)"}
		}
		if err := checkUIDs("subscribers", r.Subscribers); err != nil {
			return err
		}
		targets = nil
		for _, uid := range r.Subscribers {
			targets = append(targets, ChannelKey{Type: proto.ChannelPerson, ID: uid})
		}
	} else if err := checkChannel(r.Channel); err != nil {
		return err
	}
	a.sendEach(r, targets, SendReply{}, done)
	return nil
}

// sendEach sends r to each target in turn.
func (a *apiLoop) sendEach(r SendMessage, targets []ChannelKey, last SendReply, done func(any, error)) {
	if len(targets) == 0 {
		done(last, nil)
		return
	}
	ch := targets[0]
	from := r.FromUID
	if from == "" {
		from = SystemUID
	}
	if ch.Type == proto.ChannelPerson {
		ch = ChannelKey{Type: proto.ChannelPerson, ID: PersonChannelID(from, ch.ID)}
	}
	req := sendRequest{ch: ch, atMs: a.wallMs(), system: from == SystemUID, cmd: sendCmd{
		From: from, ClientMsgNo: r.ClientMsgNo, Header: r.Header, Expire: r.Expire, Payload: r.Payload,
	}}
	a.n.send(req, connRef{}, func(res sendResult) {
		a.back(func() {
			if res.Reason != proto.ReasonSuccess {
				if res.Err != nil {
					done(nil, res.Err)
				} else {
					done(nil, &Refused{Reason: res.Reason})
				}
				return
			}
			a.sendEach(r, targets[1:], SendReply{MessageID: res.MessageID, ClientMsgNo: r.ClientMsgNo, MessageSeq: res.Seq}, done)
		})
	})
}

// SendBatch sends one person message from FromUID to each subscriber (POST
// /message/sendbatch). Reply: SendBatchReply.
type SendBatch struct {
	Header      Header
	FromUID     string
	Subscribers []string
	Payload     []byte
}

// SendBatchReply lists the recipients that failed, with reasons.
type SendBatchReply struct {
	FailUIDs []string `json:"fail_uids"`
	Reasons  []string `json:"reason"`
}

func (r SendBatch) run(a *apiLoop, done func(any, error)) error {
	if err := checkUIDs("subscribers", r.Subscribers); err != nil {
		return err
	}
	reply := SendBatchReply{FailUIDs: []string{}, Reasons: []string{}}
	var next func(i int)
	next = func(i int) {
		if i == len(r.Subscribers) {
			done(reply, nil)
			return
		}
		one := SendMessage{Header: r.Header, FromUID: r.FromUID, Channel: ChannelKey{Type: proto.ChannelPerson, ID: r.Subscribers[i]}, Payload: r.Payload}
		sent := func(_ any, err error) {
			if err != nil {
				reply.FailUIDs = append(reply.FailUIDs, r.Subscribers[i])
				reply.Reasons = append(reply.Reasons, err.Error())
			}
			next(i + 1)
		}
		if err := one.run(a, sent); err != nil {
			sent(nil, err)
		}
	}
	next(0)
	return nil
}

// MessageSync reads a range of a channel's messages (POST
// /channel/messagesync). Reply: SyncReply.
type MessageSync struct {
	LoginUID   string
	Channel    ChannelKey
	Start, End uint64
	Limit      int
	PullMode   int
}

// SyncReply is a range of messages, oldest first.
type SyncReply struct {
	Start    uint64     `json:"start_message_seq"`
	End      uint64     `json:"end_message_seq"`
	More     int        `json:"more"`
	Messages []*Message `json:"messages"`
}

func (r MessageSync) run(a *apiLoop, done func(any, error)) error {
	ch, err := viewChannel(r.LoginUID, r.Channel)
	if err != nil {
		return err
	}
	if r.PullMode != PullDown && r.PullMode != PullUp {
		return &BadRequest{Field: "pull_mode", Msg: "must be 0 (down) or 1 (up)"}
	}
	limit := r.Limit
	if limit <= 0 || limit > 10000 {
		limit = 100
	}
	slotID := slotOfChannel(ch, a.n.cfg.Slots)
	query(a, slotID, func(rd pebbleReader, _ *slotLoop) SyncReply {
		last := readChannel(rd, slotID, ch).LastSeq
		lo, hi, more := syncRange(r.Start, r.End, limit, r.PullMode, last)
		reply := SyncReply{Start: r.Start, End: r.End, Messages: readMessages(rd, slotID, ch, lo, hi)}
		if more {
			reply.More = 1
		}
		if reply.Messages == nil {
			reply.Messages = []*Message{}
		}
		return reply
	}, func(s SyncReply) { done(s, nil) })
	return nil
}

// MaxSeq reads a channel's last seq (GET /channel/max_message_seq).
// Reply: uint64.
type MaxSeq struct {
	LoginUID string
	Channel  ChannelKey
}

func (r MaxSeq) run(a *apiLoop, done func(any, error)) error {
	ch, err := viewChannel(r.LoginUID, r.Channel)
	if err != nil {
		return err
	}
	slotID := slotOfChannel(ch, a.n.cfg.Slots)
	query(a, slotID, func(rd pebbleReader, _ *slotLoop) uint64 {
		return readChannel(rd, slotID, ch).LastSeq
	}, func(seq uint64) { done(seq, nil) })
	return nil
}

// MessagesBySeq reads given messages of a channel (POST /messages).
// Reply: []*Message, in the order asked, missing ones left out.
type MessagesBySeq struct {
	LoginUID string
	Channel  ChannelKey
	Seqs     []uint64
}

func (r MessagesBySeq) run(a *apiLoop, done func(any, error)) error {
	ch, err := viewChannel(r.LoginUID, r.Channel)
	if err != nil {
		return err
	}
	slotID := slotOfChannel(ch, a.n.cfg.Slots)
	query(a, slotID, func(rd pebbleReader, _ *slotLoop) []*Message {
		out := []*Message{}
		for _, seq := range r.Seqs {
			if m := readMessage(rd, slotID, ch, seq); m != nil {
				out = append(out, m)
			}
		}
		return out
	}, func(ms []*Message) { done(ms, nil) })
	return nil
}

// Conversations.

// Conversation is one of a user's recent chats.
type Conversation struct {
	Channel         ChannelKey // as stored
	Unread          uint64
	Timestamp       int32
	LastMsgSeq      uint64
	LastClientMsgNo string
	ReadToMsgSeq    uint64
	Recents         []*Message
}

// ConversationSync lists a user's conversations, most recent first (POST
// /conversation/sync). Reply: []Conversation.
type ConversationSync struct {
	UID          string
	MsgCount     int
	OnlyUnread   bool
	ExcludeTypes []proto.ChannelType
}

func (r ConversationSync) run(a *apiLoop, done func(any, error)) error {
	if err := checkUID("uid", r.UID); err != nil {
		return err
	}
	gatherSlotLoops(a, true, func(sl *slotLoop) []Conversation {
		var out []Conversation
		for _, slotID := range sl.slotIDs {
			out = append(out, r.inSlot(sl.n.db, slotID)...)
		}
		return out
	}, func(parts [][]Conversation) {
		out := []Conversation{}
		for _, p := range parts {
			out = append(out, p...)
		}
		slices.SortStableFunc(out, func(x, y Conversation) int {
			if x.Timestamp != y.Timestamp {
				return int(y.Timestamp - x.Timestamp)
			}
			return strings.Compare(x.Channel.String(), y.Channel.String())
		})
		done(out, nil)
	})
	return nil
}

func (r ConversationSync) inSlot(rd pebbleReader, slotID int) []Conversation {
	var out []Conversation
	prefix := conversationPrefix(slotID, r.UID)
	scan(rd, prefix, func(k, v []byte) {
		ch := ChannelKey{Type: proto.ChannelType(k[len(prefix)]), ID: string(k[len(prefix)+1 : len(k)-1])}
		if slices.Contains(r.ExcludeTypes, ch.Type) || (ch.Type == proto.ChannelPerson && ch.PeerOf(r.UID) == SystemUID) {
			return // system notices reach users as RECVs, not as a conversation
		}
		var conv convRecord
		decode(v, &conv)
		rec := readChannel(rd, slotID, ch)
		if rec.LastSeq == 0 || rec.LastSeq <= conv.DeletedSeq {
			return
		}
		c := Conversation{Channel: ch, Unread: unread(rec.LastSeq, conv.ReadSeq), Timestamp: rec.LastTimestamp,
			LastMsgSeq: rec.LastSeq, ReadToMsgSeq: conv.ReadSeq}
		if r.OnlyUnread && c.Unread == 0 {
			return
		}
		if last := readMessage(rd, slotID, ch, rec.LastSeq); last != nil {
			c.LastClientMsgNo = last.ClientMsgNo
		}
		if r.MsgCount > 0 {
			lo := uint64(1)
			if rec.LastSeq > uint64(r.MsgCount) {
				lo = rec.LastSeq - uint64(r.MsgCount) + 1
			}
			c.Recents = readMessages(rd, slotID, ch, max(lo, conv.DeletedSeq+1), rec.LastSeq)
		}
		out = append(out, c)
	})
	return out
}

// ConversationUpdate clears unread (Op "clear", Seq 0 = up to the last),
// sets the unread count (Op "set_unread") or hides a conversation (Op
// "delete") (POST /conversations/clearUnread, /setUnread, /delete).
// Reply: nil.
type ConversationUpdate struct {
	UID     string
	Channel ChannelKey
	Op      string
	Seq     uint64
	Unread  uint64
}

func (r ConversationUpdate) run(a *apiLoop, done func(any, error)) error {
	if err := checkUID("uid", r.UID); err != nil {
		return err
	}
	ch, err := viewChannel(r.UID, r.Channel)
	if err != nil {
		return err
	}
	ops := map[string]string{"clear": opConvClear, "set_unread": opConvSetUnread, "delete": opConvDelete}
	op, ok := ops[r.Op]
	if !ok {
		return &BadRequest{Field: "op", Msg: "must be clear, set_unread or delete"}
	}
	cmd := &command{Op: op, UID: r.UID, Ch: ch, Seq: r.Seq, Unread: r.Unread}
	a.proposeReply(slotOfChannel(ch, a.n.cfg.Slots), cmd, done)
	return nil
}
