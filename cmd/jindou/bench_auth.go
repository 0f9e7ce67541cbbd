package main

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/wkclient"
)

// Against a node with token_auth, a bench user's CONNECT is refused until
// its token is registered: dial registers it (POST /user/token, with the
// manager token when given) on the first refusal and dials again. A
// refusal is reported with the reason's name, not only its number.

// benchToken is the CONNECT token of a bench user.
func benchToken(uid string) string { return "t-" + uid }

// dialAuth dials with dialOnce; on an auth refusal it registers the
// user's token and dials once more.
func (o *benchOpts) dialAuth(uid string, dialOnce func() (*wkclient.NetClient, error)) (*wkclient.NetClient, error) {
	c, err := dialOnce()
	var refused *wkclient.ConnackError
	if !errors.As(err, &refused) || refused.Reason != proto.ReasonAuthFail {
		return c, explainRefusal(err)
	}
	if err := o.registerToken(uid, explainRefusal(err)); err != nil {
		return nil, err
	}
	c, err = dialOnce()
	return c, explainRefusal(err)
}

// registerToken sets uid's token through the API after refusal.
func (o *benchOpts) registerToken(uid string, refusal error) error {
	err := o.post("/user/token", map[string]any{"uid": uid, "token": benchToken(uid), "device_flag": proto.DeviceApp})
	if err == nil {
		return nil
	}
	hint := ""
	if status, _, cerr := o.call(http.MethodGet, "/varz", nil); cerr == nil && status == http.StatusUnauthorized {
		hint = " (the node has a manager token: pass it with --manager-token)"
	}
	return fmt.Errorf("%v: the node checks tokens (token_auth), and registering %s's failed: %w%s", refusal, uid, err, hint)
}

// explainRefusal names a CONNACK refusal's reason.
func explainRefusal(err error) error {
	var refused *wkclient.ConnackError
	if !errors.As(err, &refused) {
		return err
	}
	return fmt.Errorf("%w (%s)", err, reasonText(refused.Reason))
}

// reasonTexts say what the protocol's reason codes mean (PROTOCOL.md,
// section 4).
var reasonTexts = map[proto.ReasonCode]string{
	proto.ReasonUnknown:                 "unknown",
	proto.ReasonAuthFail:                "auth fail: the token does not match the one set by POST /user/token",
	proto.ReasonSubscriberNotExist:      "not a subscriber of the channel",
	proto.ReasonInBlacklist:             "in the channel's blacklist",
	proto.ReasonChannelNotExist:         "no such channel",
	proto.ReasonUserNotOnNode:           "the user is not on this node",
	proto.ReasonSenderOffline:           "the sender is offline",
	proto.ReasonMsgKeyError:             "msg_key does not match the payload",
	proto.ReasonPayloadDecodeError:      "the payload does not decrypt",
	proto.ReasonForwardSendPacketError:  "forwarding the send failed",
	proto.ReasonNotAllowSend:            "not allowed to send",
	proto.ReasonConnectKick:             "kicked: another connection of the same device took over",
	proto.ReasonNotInWhitelist:          "not in the channel's whitelist",
	proto.ReasonQueryTokenError:         "the token could not be read",
	proto.ReasonSystemError:             "server error",
	proto.ReasonChannelIDError:          "bad channel id",
	proto.ReasonNodeMatchError:          "node match error",
	proto.ReasonNodeNotMatch:            "wrong node",
	proto.ReasonBan:                     "the channel is banned",
	proto.ReasonNotSupportHeader:        "header not supported",
	proto.ReasonClientKeyIsEmpty:        "CONNECT carried no client key",
	proto.ReasonRateLimit:               "rate limited",
	proto.ReasonNotSupportChannelType:   "channel type not supported",
	proto.ReasonDisband:                 "the group is disbanded",
	proto.ReasonSendBan:                 "sending is banned in the channel",
	proto.ReasonChannelDeleting:         "the channel is being deleted",
	proto.ReasonProtocolUpgradeRequired: "protocol version too old",
	proto.ReasonIdempotencyConflict:     "client_msg_no reused with another payload",
	proto.ReasonMessageSeqExhausted:     "the channel's message seqs are exhausted",
}

func reasonText(r proto.ReasonCode) string {
	if s, ok := reasonTexts[r]; ok {
		return s
	}
	return "a reason this version does not know"
}
