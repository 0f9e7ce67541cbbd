package node

import (
	"fmt"
	"slices"
	"strings"

	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/node/state"
)

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
	if err := checkPayload(a, r.Payload); err != nil {
		return err
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

// checkPayload refuses an empty payload and one over MaxPayloadBytes.
func checkPayload(a *apiLoop, payload []byte) error {
	if len(payload) == 0 {
		return &BadRequest{Field: "payload", Msg: "must be non-empty base64"}
	}
	if limit := a.n.cfg.MaxPayloadBytes; len(payload) > limit {
		return &BadRequest{Field: "payload", Msg: fmt.Sprintf("%d bytes, over the limit of %d (max_payload_size)", len(payload), limit)}
	}
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
		ch = ChannelKey{Type: proto.ChannelPerson, ID: state.PersonChannelID(from, ch.ID)}
	}
	req := sendRequest{Ch: ch, AtMs: a.wallMs(), System: from == SystemUID, Cmd: state.SendCmd{
		From: from, ClientMsgNo: r.ClientMsgNo, Header: r.Header, Expire: r.Expire, Payload: r.Payload,
	}}
	a.send(req, func(res sendResult) {
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
	if err := checkPayload(a, r.Payload); err != nil {
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
	if limit <= 0 || limit > maxSyncLimit {
		limit = defaultSyncLimit
	}
	q := querySync{Ch: ch, Start: r.Start, End: r.End, Limit: limit, Mode: r.PullMode}
	a.read(state.SlotOfChannel(ch, a.n.cfg.Slots), q, func(res readResult, err error) {
		if err != nil {
			done(nil, err)
			return
		}
		s := res.(syncResult)
		reply := SyncReply{Start: r.Start, End: r.End, Messages: s.Messages}
		if s.More {
			reply.More = 1
		}
		done(reply, nil)
	})
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
	a.read(state.SlotOfChannel(ch, a.n.cfg.Slots), queryMaxSeq{Ch: ch}, func(res readResult, err error) {
		if err != nil {
			done(nil, err)
			return
		}
		done(uint64(res.(seqResult)), nil)
	})
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
	a.read(state.SlotOfChannel(ch, a.n.cfg.Slots), queryMessagesAt{Ch: ch, Seqs: r.Seqs}, func(res readResult, err error) {
		if err != nil {
			done(nil, err)
			return
		}
		done([]*Message(res.(messagesResult)), nil)
	})
	return nil
}

// Conversations.

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
	q := queryConversations{Q: state.ConversationQuery{UID: r.UID, MsgCount: r.MsgCount, OnlyUnread: r.OnlyUnread, ExcludeTypes: r.ExcludeTypes}}
	a.gatherSlots(q, func(parts []readResult, err error) {
		if err != nil {
			done(nil, err)
			return
		}
		out := []Conversation{}
		for _, p := range parts {
			out = append(out, p.(conversationsResult)...)
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
	ops := map[string]string{"clear": state.OpConvClear, "set_unread": state.OpConvSetUnread, "delete": state.OpConvDelete}
	op, ok := ops[r.Op]
	if !ok {
		return &BadRequest{Field: "op", Msg: "must be clear, set_unread or delete"}
	}
	cmd := &state.Command{Op: op, UID: r.UID, Ch: ch, Seq: r.Seq, Unread: r.Unread}
	a.proposeReply(state.SlotOfChannel(ch, a.n.cfg.Slots), cmd, done)
	return nil
}
