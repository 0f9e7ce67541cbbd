package state

import (
	"encoding/binary"

	"github.com/cockroachdb/pebble/v2"
)

// Lookups of one message of a channel by its message id or its
// client_msg_no (POST /message, GET /message/byclientmsgno).

// tblClientMsgNo indexes a channel's messages by client_msg_no: chkey
// client_msg_no → the seq (big-endian u64) of the latest message stored
// with it. Written with every stored message that has one.
const tblClientMsgNo = 'n'

func clientMsgNoKey(slot int, k ChannelKey, clientMsgNo string) []byte {
	return append(appendChannel(appendTableKey(nil, slot, tblClientMsgNo), k), clientMsgNo...)
}

// indexClientMsgNo records that ch's message at seq has clientMsgNo.
func (f *fsm) indexClientMsgNo(ch ChannelKey, clientMsgNo string, seq uint64) {
	f.put(clientMsgNoKey(f.slot, ch, clientMsgNo), binary.BigEndian.AppendUint64(nil, seq))
}

// MessageByClientMsgNo is the latest message of ch stored with
// clientMsgNo, or nil. Messages stored before the index existed are not
// found.
func (m *Machine) MessageByClientMsgNo(r pebble.Reader, ch ChannelKey, clientMsgNo string) *Message {
	if clientMsgNo == "" {
		return nil
	}
	v, ok := GetValue(r, clientMsgNoKey(m.slot, ch, clientMsgNo))
	if !ok || len(v) != 8 {
		return nil
	}
	return ReadMessage(r, m.slot, ch, binary.BigEndian.Uint64(v))
}

// MessageByID is ch's message with id, or nil. A channel lives in one
// slot, whose message ids increase in log order, so ids increase with seq
// and a binary search over the seqs finds it in O(log n) reads.
func (m *Machine) MessageByID(r pebble.Reader, ch ChannelKey, id int64) *Message {
	lo, hi := uint64(1), m.MaxSeq(r, ch)
	for lo <= hi {
		mid := lo + (hi-lo)/2
		msg := ReadMessage(r, m.slot, ch, mid)
		switch {
		case msg == nil:
			return nil // a hole: not a log written by this machine
		case msg.MessageID == id:
			return msg
		case msg.MessageID < id:
			lo = mid + 1
		default:
			hi = mid - 1
		}
	}
	return nil
}
