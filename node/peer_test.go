package node

import (
	"errors"
	"reflect"
	"testing"

	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/node/state"
	"github.com/jindou-im/jindou/runtime"
)

var peerSamples = func() []runtime.Msg {
	reply := replyTo{addr: addr{Node: 3, Loop: "gw-1", Inc: 1 << 60}, Conn: 9, ClientSeq: 77, Req: 5}
	ch := state.ChannelKey{Type: proto.ChannelGroup, ID: "g1"}
	msg := &state.Message{MessageID: 42, Seq: 7, ClientMsgNo: "c1", FromUID: "alice", Channel: ch, Timestamp: 1700000000,
		Setting: 1, Expire: 60, Topic: "t", Payload: []byte("hello")}
	cmd := &state.Command{Op: state.OpSend, AtMs: 99, Ch: ch, Send: &state.SendCmd{ID: 42, From: "alice", ClientMsgNo: "c1", Payload: []byte("x")}}
	conv := state.Conversation{Channel: ch, Unread: 2, Timestamp: 5, LastMsgSeq: 7, LastClientMsgNo: "c1", ReadToMsgSeq: 5, Recents: []*state.Message{msg}}
	return []runtime.Msg{
		slotSend{Slot: 3, Reply: reply, Hops: 2, Req: sendRequest{Ch: ch, AtMs: 99, System: true, Cmd: *cmd.Send}},
		slotPropose{Slot: 1, Reply: reply, Cmd: cmd},
		slotRead{Slot: 0, Reply: reply, Query: queryToken{UID: "u", Flag: 1, Token: "t"}},
		slotRead{Slot: 2, Reply: reply, Query: querySystemUIDs{}},
		slotRead{Slot: 2, Reply: reply, Query: queryList{Ch: ch, List: 'b'}},
		slotRead{Slot: 2, Reply: reply, Query: querySync{Ch: ch, Start: 1, End: 9, Limit: 20, Mode: 1}},
		slotRead{Slot: 2, Reply: reply, Query: queryMaxSeq{Ch: ch}},
		slotRead{Slot: 2, Reply: reply, Query: queryMessagesAt{Ch: ch, Seqs: []uint64{1, 5}}},
		slotRead{Slot: 2, Reply: reply, Query: queryConversations{Q: state.ConversationQuery{UID: "u", MsgCount: 3, OnlyUnread: true, ExcludeTypes: []proto.ChannelType{1}}}},
		slotRead{Slot: 2, Reply: reply, Query: queryPersonFacts{Ch: ch, From: "alice"}},
		sendDone{Reply: reply, Res: sendResult{Reason: proto.ReasonSuccess, MessageID: 42, Seq: 7, Duplicate: true}},
		proposeDone{Reply: reply},
		readDone{Reply: reply, Result: authResult{OK: true, Level: 1}},
		readDone{Reply: reply, Result: uidsResult{"a", "b"}},
		readDone{Reply: reply, Result: syncResult{Messages: []*state.Message{msg}, More: true}},
		readDone{Reply: reply, Result: seqResult(9)},
		readDone{Reply: reply, Result: messagesResult{msg}},
		readDone{Reply: reply, Result: conversationsResult{conv}},
		readDone{Reply: reply, Result: onlineResult{{UID: "u", DeviceFlag: 1, Online: 1}}},
		readDone{Reply: reply, Result: factsResult{Info: state.ChannelInfo{Ban: true}, Blacklisted: true, WhitelistSet: true}},
		deliverMsg{Msg: msg, Recipients: []string{"a", "b"}, Except: connAddr{Node: 2, Gateway: "gw-0", Conn: 4}},
		kickMsg{UID: "u", Flag: -1, Reason: "device quit"},
		kickMsg{UID: "u", Flag: 1, Except: connAddr{Node: 1, Gateway: "gw-1", Conn: 3}, Reason: "login in other device", Login: true, Device: "d", Master: true},
		slotRead{Slot: 2, Reply: reply, Query: queryBan{UID: "u"}},
		slotRead{Slot: 2, Reply: reply, Query: queryConfirm{}},
		readDone{Reply: reply, Result: confirmResult{}},
		replicaRemoved{Slot: 3, Term: 9},
		needSnapshot{Slot: ctrlGroup},
		slotRead{Slot: 2, Reply: reply, Query: queryMessage{Ch: ch, ID: 42, ClientMsgNo: "c1"}},
		readDone{Reply: reply, Result: banResult(true)},
		gatewayRead{Reply: reply, Query: queryOnline{UIDs: []string{"u"}}},
		systemChanged{UIDs: []string{"sys"}, Index: 12},
		leadersMsg{From: 2, Slots: []int{0, 3}, Terms: []uint64{4, 5}},
		presenceUpdate{Src: presenceSource{Gateway: 1, Inc: 1 << 62}, Seq: 9, Changes: []presenceChange{{UID: "u", State: presenceMaster}, {UID: "v", State: presenceOff}}},
		presenceUpdate{Src: presenceSource{Gateway: 0, Inc: 3}, Seq: 12}, // a beat
		presenceFull{Src: presenceSource{Gateway: 2, Inc: 3}, Seq: 12, Part: 1, Parts: 3, Holds: []presenceChange{{UID: "u", State: presenceOn}}},
		presenceFull{Src: presenceSource{Inc: 3}, Parts: 1},
		presenceAsk{Reply: addr{Node: 2, Loop: "slots-1", Inc: 7}},
		slotRead{Slot: 2, Reply: reply, Query: querySubscribers{Ch: ch, After: "b", Limit: 50}},
		readDone{Reply: reply, Result: subscribersResult{UIDs: []string{"c", "d"}, Total: 9, More: true}},
	}
}()

func TestEveryPeerMessageSurvivesItsEncoding(t *testing.T) {
	for _, m := range peerSamples {
		got, err := decodePeer(encodePeer(m))
		if err != nil {
			t.Fatalf("%T: %v", m, err)
		}
		if !reflect.DeepEqual(got, m) {
			t.Fatalf("%T round trip:\n got %#v\nwant %#v", m, got, m)
		}
	}
}

func TestErrorsCrossNodesWithTheirSentinel(t *testing.T) {
	for _, want := range []error{ErrNotLeader, ErrOverloaded, ErrTimeout, errors.New("disk on fire")} {
		m := proposeDone{Err: want}
		got, err := decodePeer(encodePeer(m))
		if err != nil {
			t.Fatal(err)
		}
		e := got.(proposeDone).Err
		if e == nil || e.Error() != want.Error() {
			t.Fatalf("%v crossed as %v", want, e)
		}
		if want == ErrNotLeader || want == ErrOverloaded || want == ErrTimeout {
			if !errors.Is(e, want) {
				t.Fatalf("%v lost its sentinel", want)
			}
		}
	}
}

func TestMalformedPeerMessagesAreRefused(t *testing.T) {
	good := encodePeer(peerSamples[0])
	for name, b := range map[string][]byte{
		"empty":          nil,
		"unknown format": append([]byte{9}, good[1:]...),
		"unknown kind":   {peerFormat, 200},
		"truncated":      good[:len(good)-3],
		"trailing bytes": append(append([]byte(nil), good...), 0),
		"negative slot":  {peerFormat, peerSlotRead, 1},
		"presence state": {peerFormat, peerPresenceUpdate, 0, 1, 1, 1, 1, 'u', byte(presenceStates)},
		"presence part":  {peerFormat, peerPresenceFull, 0, 1, 1, 2, 2, 0},
		"no parts":       {peerFormat, peerPresenceFull, 0, 1, 1, 0, 0, 0},
	} {
		if m, err := decodePeer(b); err == nil {
			t.Fatalf("%s: decoded as %#v", name, m)
		}
	}
}

func FuzzDecodePeer(f *testing.F) {
	for _, m := range peerSamples {
		f.Add(encodePeer(m))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodePeer(b)
		if err != nil {
			return
		}
		// What decodes encodes again to what decodes the same.
		again, err := decodePeer(encodePeer(m))
		if err != nil || !reflect.DeepEqual(again, m) {
			t.Fatalf("%#v re-encoded: %#v, %v", m, again, err)
		}
	})
}
