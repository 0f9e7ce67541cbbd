// Package linearize records what clients did to a Jindou cluster during a
// run and checks it: linearizability of each channel's message log with
// github.com/anishathalye/porcupine, and linear-time invariants over
// everything the clients observed (DESIGN.md section 4).
//
// # Recording
//
// A Recorder takes, in virtual time (durations since the run's start):
//
//   - operations, each a call and a return: sends (CallSend, then SendOK,
//     Failed or Unknown), history syncs (CallSync, SyncOK) and max-seq reads
//     (CallMaxSeq, MaxSeqOK). Each client has at most one pending operation;
//     after an Unknown outcome the Recorder files the client's later
//     operations under a fresh porcupine client id, so callers need not.
//   - RECVs seen per connection (Received), and when connections were
//     online subscribers of a channel (Subscribed), for the liveness check;
//   - restarts (Restarted), each with the logs of channels read through the
//     cluster right after it;
//   - the final stored log of each channel (FinalLog).
//
// Channels are named by the server's stored key ("2:group1"; person
// channels under their a@b id, not the peer uid a RECV shows).
//
// # The model
//
// Each channel is an append-only log whose state is constant in size: the
// tail seq and a chained FNV hash of the message ids at 1..tail. A send
// appends: its seq must be tail+1. A max-seq read returns the tail. A sync
// must return exactly the seqs SyncWindow gives for the tail, each the
// stored message at its seq, and the log the model built so far must hash
// like the final log's prefix of the same length. Identity is checked
// against the final log, which every operation's input points to; the
// state never grows.
//
// Unknown sends are resolved before checking, as etcd does from its WAL:
// looked up in the final log by (from uid, client_msg_no), a present one
// becomes an append of the stored seq and id with an open-ended return (it
// may have happened any time after its call), an absent one is dropped, as
// are failed sends and reads that did not return OK.
//
// Resends with the same client_msg_no are deduplicated by the server and
// answered with the original seq and id. The state cannot remember every
// client_msg_no, so duplicates are resolved beforehand too: sends of a
// channel that took effect (acked, or unknown and stored) are grouped by
// (from uid, client_msg_no), and a send in a group of more than one may
// also step as a read of its seq: legal when seq ≤ tail and the stored
// message at that seq has its id. Exactly one of the group can append (the
// seq is appended once), whichever porcupine linearizes first.
//
// Porcupine's depth-first search goes exponential when many reads of one
// channel are in flight (it appends too eagerly, then backtracks through
// every subset of the reads it placed meanwhile). Because every append's
// seq is known, the check first derives from the history a window for the
// time each seq can be appended and cuts every operation's interval to what
// some linearization can use (tighten.go). That adds only constraints every
// linearization meets, so the verdict is unchanged (a rapid test compares
// it with and without), and porcupine's greedy choice becomes the right
// one: 10,000 operations on one channel, ~200 in flight, check in tens of
// milliseconds. An empty window proves the channel not linearizable and
// says why in words; porcupine still decides.
//
// A porcupine Illegal or Unknown (time limit hit) verdict fails the check,
// and a failed check writes porcupine's HTML visualization (times in it are
// virtual nanoseconds ×4, see scale).
//
// # The invariants
//
// One message per (channel, seq) across acks, sync answers, RECVs, the
// final log and logs read after restarts; no (from uid, client_msg_no) and
// no message id stored at two seqs; logs are 1..N without gaps; every
// acknowledged send is at its seq with its id, sender and client_msg_no in
// the final log and in every log read after a later restart; every message
// a RECV, a sync answer or a log read after a restart shows is in the
// final log at its seq with the same sender and client_msg_no, and every
// payload recorded for a message (sent, RECV'd, synced, stored) is the
// same (observed.go); nothing stored or seen that no recorded send sent,
// or that was only sent by refused sends; sync answers in increasing seq;
// per connection and
// channel, RECVs in increasing seq, a RECV received before allowed again (a
// resend), never a different lower one; and, with Options.DeliveryBound,
// every message acknowledged while a connection was subscribed reaches it
// in time. Each violation says which channel, seq, operations and what was
// expected against what was seen.
//
// # The permission model and the views
//
// Beside Check, CheckRules and CheckViews check what the recorder was told
// of the rules (rules.go): channels declared Modelled with their initial
// rules, and each RuleChanged (bans, subscribers, black/whitelists, system
// uids), applied in order of call at some instant between call and
// return. A send of a modelled channel must be answered as some state of
// the rules during it allowed, a RECV of one must reach a user subscribed
// at some moment since the send, no RECV may follow a connection's
// DISCONNECT (permissions.go); a sync's more flag must say whether its
// limit cut the range, and a conversation's last_msg_seq, unread count
// and read cursor must fit the log and the cursor's moves (views.go). A
// change racing an operation allows every state it could have left.
//
// Imports: the standard library and porcupine (tests also rapid). Never
// node/ or sim/: it checks histories, whoever produced them.
package linearize
