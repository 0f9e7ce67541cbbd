package main

import "github.com/jindou-im/jindou/node/proto"

// refusal answers a client turned away before any session exists (the
// binary's fd cap: the host accepted it on a reserve descriptor and cannot
// hand it to the core): a CONNACK with Reason at the version the client's
// CONNECT negotiates, then a DISCONNECT whose text says why.
type refusal struct {
	NodeID uint64
	Reason proto.ReasonCode
	Text   string
}

// refusalMaxConnect bounds the CONNECT a refusal reads: a real one is a
// few hundred bytes.
const refusalMaxConnect = 4096

// answer reads the CONNECT at the start of in and returns the frames that
// refuse it. done is false while in holds only the start of a CONNECT;
// done with a nil answer means in does not start with one (or it is
// malformed, or longer than 4 KiB): there is nothing to answer.
func (r refusal) answer(in []byte) (answer []byte, done bool) {
	f, n, err := proto.ParseFrame(in, refusalMaxConnect)
	switch {
	case err != nil:
		return nil, true
	case n == 0:
		return nil, len(in) >= refusalMaxConnect
	case f.Type != proto.TypeConnect:
		return nil, true
	}
	var c proto.Connect
	if f.DecodeInto(&c, proto.LatestVersion) != nil {
		return nil, true
	}
	v, ok := proto.NegotiateVersion(c.Version)
	if !ok {
		v = proto.MinVersion
	}
	ack := &proto.Connack{ReasonCode: r.Reason, NodeID: r.NodeID}
	if v > 3 {
		ack.HasServerVersion, ack.ServerVersion = true, v
	}
	out, err := proto.AppendFrame(nil, ack, v)
	if err != nil {
		return nil, true
	}
	if out, err = proto.AppendFrame(out, &proto.Disconnect{ReasonCode: r.Reason, Reason: r.Text}, v); err != nil {
		return nil, true
	}
	return out, true
}
