package node

import (
	"fmt"

	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/node/state"
)

// The peer encoding of slot queries and read results (see peer.go).

// Query kinds.
const (
	qToken byte = 1 + iota
	qSystemUIDs
	qList
	qSync
	qMaxSeq
	qMessagesAt
	qConversations
	qPersonFacts
	qBan
	qMessage
	qConfirm // refusal.go
)

func writeQuery(w *state.Writer, q slotQuery) {
	switch q := q.(type) {
	case queryToken:
		w.Byte(qToken)
		w.Str(q.UID)
		w.Byte(q.Flag)
		w.Str(q.Token)
	case querySystemUIDs:
		w.Byte(qSystemUIDs)
	case queryList:
		w.Byte(qList)
		w.Channel(q.Ch)
		w.Byte(q.List)
	case querySync:
		w.Byte(qSync)
		w.Channel(q.Ch)
		w.Uint(q.Start)
		w.Uint(q.End)
		w.Int(int64(q.Limit))
		w.Int(int64(q.Mode))
	case queryMaxSeq:
		w.Byte(qMaxSeq)
		w.Channel(q.Ch)
	case queryMessagesAt:
		w.Byte(qMessagesAt)
		w.Channel(q.Ch)
		w.Uint(uint64(len(q.Seqs)))
		for _, s := range q.Seqs {
			w.Uint(s)
		}
	case queryConversations:
		w.Byte(qConversations)
		w.ConversationQuery(q.Q)
	case queryPersonFacts:
		w.Byte(qPersonFacts)
		w.Channel(q.Ch)
		w.Str(q.From)
	case queryBan:
		w.Byte(qBan)
		w.Str(q.UID)
	case queryMessage:
		w.Byte(qMessage)
		w.Channel(q.Ch)
		w.Int(q.ID)
		w.Str(q.ClientMsgNo)
	case queryConfirm:
		w.Byte(qConfirm)
	default:
		if !writeSyncQuery(w, q) && !writeSubscribersQuery(w, q) { // requests_sync.go, requests_subscribers.go
			panic(fmt.Sprintf("node: slot query %T has no peer encoding", q))
		}
	}
}

func readQuery(r *state.Reader) slotQuery {
	kind := r.Byte()
	switch kind {
	case qToken:
		return queryToken{UID: r.Str(), Flag: r.Byte(), Token: r.Str()}
	case qSystemUIDs:
		return querySystemUIDs{}
	case qList:
		return queryList{Ch: r.Channel(), List: r.Byte()}
	case qSync:
		return querySync{Ch: r.Channel(), Start: r.Uint(), End: r.Uint(), Limit: int(r.Int()), Mode: int(r.Int())}
	case qMaxSeq:
		return queryMaxSeq{Ch: r.Channel()}
	case qMessagesAt:
		q := queryMessagesAt{Ch: r.Channel()}
		n := r.Count()
		for range n {
			q.Seqs = append(q.Seqs, r.Uint())
		}
		return q
	case qConversations:
		return queryConversations{Q: r.ConversationQuery()}
	case qPersonFacts:
		return queryPersonFacts{Ch: r.Channel(), From: r.Str()}
	case qBan:
		return queryBan{UID: r.Str()}
	case qMessage:
		return queryMessage{Ch: r.Channel(), ID: r.Int(), ClientMsgNo: r.Str()}
	case qConfirm:
		return queryConfirm{}
	}
	if q := readSyncQueryOf(kind, r); q != nil {
		return q
	}
	if q := readSubscribersQueryOf(kind, r); q != nil {
		return q
	}
	r.Fail("query kind")
	return nil
}

// Result kinds.
const (
	rAuth byte = 1 + iota
	rUIDs
	rSync
	rSeq
	rMessages
	rConversations
	rOnline
	rFacts
	rBan
	rConfirm // refusal.go
)

func writeResult(w *state.Writer, res readResult) {
	switch res := res.(type) {
	case authResult:
		w.Byte(rAuth)
		w.Bool(res.OK)
		w.Byte(byte(res.Level))
	case uidsResult:
		w.Byte(rUIDs)
		w.Strs(res)
	case syncResult:
		w.Byte(rSync)
		writeMessages(w, res.Messages)
		w.Bool(res.More)
	case seqResult:
		w.Byte(rSeq)
		w.Uint(uint64(res))
	case messagesResult:
		w.Byte(rMessages)
		writeMessages(w, res)
	case conversationsResult:
		w.Byte(rConversations)
		w.Uint(uint64(len(res)))
		for i := range res {
			w.Conversation(&res[i])
		}
	case onlineResult:
		w.Byte(rOnline)
		w.Uint(uint64(len(res)))
		for _, c := range res {
			w.Str(c.UID)
			w.Byte(c.DeviceFlag)
			w.Int(int64(c.Online))
		}
	case banResult:
		w.Byte(rBan)
		w.Bool(bool(res))
	case confirmResult:
		w.Byte(rConfirm)
	case factsResult:
		w.Byte(rFacts)
		w.Info(res.Info)
		w.Bool(res.Blacklisted)
		w.Bool(res.WhitelistSet)
		w.Bool(res.Whitelisted)
	default:
		if !writeSyncResult(w, res) && !writeSubscribersResult(w, res) { // requests_sync.go, requests_subscribers.go
			panic(fmt.Sprintf("node: read result %T has no peer encoding", res))
		}
	}
}

func readResultOf(r *state.Reader) readResult {
	kind := r.Byte()
	switch kind {
	case rAuth:
		return authResult{OK: r.Bool(), Level: proto.DeviceLevel(r.Byte())}
	case rUIDs:
		return uidsResult(r.Strs())
	case rSync:
		return syncResult{Messages: readMessages(r), More: r.Bool()}
	case rSeq:
		return seqResult(r.Uint())
	case rMessages:
		return messagesResult(readMessages(r))
	case rConversations:
		n := r.Count()
		var out conversationsResult
		for range n {
			out = append(out, r.Conversation())
		}
		return out
	case rOnline:
		n := r.Count()
		var out onlineResult
		for range n {
			out = append(out, OnlineConn{UID: r.Str(), DeviceFlag: r.Byte(), Online: int(r.Int())})
		}
		return out
	case rBan:
		return banResult(r.Bool())
	case rConfirm:
		return confirmResult{}
	case rFacts:
		return factsResult{Info: r.Info(), Blacklisted: r.Bool(), WhitelistSet: r.Bool(), Whitelisted: r.Bool()}
	}
	if res := readSyncResultOf(kind, r); res != nil {
		return res
	}
	if res := readSubscribersResultOf(kind, r); res != nil {
		return res
	}
	r.Fail("result kind")
	return nil
}

func writeMessages(w *state.Writer, msgs []*state.Message) {
	w.Uint(uint64(len(msgs)))
	for _, m := range msgs {
		w.Message(m)
	}
}

func readMessages(r *state.Reader) []*state.Message {
	n := r.Count()
	var out []*state.Message
	for range n {
		out = append(out, r.Message())
	}
	return out
}
