package node

import (
	"github.com/cockroachdb/pebble/v2"

	"github.com/jindou-im/jindou/node/state"
)

// MessageLookup reads one message of a channel by its message id or, if
// MessageID is 0, its client_msg_no (POST /message, GET
// /message/byclientmsgno). Reply: *Message, nil when there is none.
type MessageLookup struct {
	LoginUID    string
	Channel     ChannelKey
	MessageID   int64
	ClientMsgNo string
}

// queryMessage looks one message up (MessageLookup). Result:
// messagesResult of zero or one message.
type queryMessage struct {
	Ch          state.ChannelKey
	ID          int64
	ClientMsgNo string
}

func (queryMessage) isSlotQuery() {}

func (r MessageLookup) run(a *apiLoop, done func(any, error)) error {
	ch, err := viewChannel(r.LoginUID, r.Channel)
	if err != nil {
		return err
	}
	if r.MessageID == 0 && r.ClientMsgNo == "" {
		return &BadRequest{Field: "message_id", Msg: "message_id or client_msg_no is required"}
	}
	q := queryMessage{Ch: ch, ID: r.MessageID, ClientMsgNo: r.ClientMsgNo}
	a.read(state.SlotOfChannel(ch, a.n.cfg.Slots), q, func(res readResult, err error) {
		if err != nil {
			done(nil, err)
			return
		}
		var m *Message
		if msgs := res.(messagesResult); len(msgs) > 0 {
			m = msgs[0]
		}
		done(m, nil)
	})
	return nil
}

// lookupMessage answers a queryMessage from the slot's store.
func lookupMessage(m *state.Machine, db pebble.Reader, q queryMessage) messagesResult {
	var msg *Message
	if q.ID != 0 {
		msg = m.MessageByID(db, q.Ch, q.ID)
	} else {
		msg = m.MessageByClientMsgNo(db, q.Ch, q.ClientMsgNo)
	}
	if msg == nil {
		return nil
	}
	return messagesResult{msg}
}
