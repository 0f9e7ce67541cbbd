package proto

import "fmt"

// PacketType is the high nibble of a frame's first byte.
type PacketType uint8

// The twelve packet types. Values are wire values.
const (
	TypeConnect    PacketType = 1
	TypeConnack    PacketType = 2
	TypeSend       PacketType = 3
	TypeSendack    PacketType = 4
	TypeRecv       PacketType = 5
	TypeRecvack    PacketType = 6
	TypePing       PacketType = 7
	TypePong       PacketType = 8
	TypeDisconnect PacketType = 9
	TypeSub        PacketType = 10
	TypeSuback     PacketType = 11
	TypeEvent      PacketType = 12
)

var typeNames = [...]string{
	TypeConnect: "CONNECT", TypeConnack: "CONNACK", TypeSend: "SEND",
	TypeSendack: "SENDACK", TypeRecv: "RECV", TypeRecvack: "RECVACK",
	TypePing: "PING", TypePong: "PONG", TypeDisconnect: "DISCONNECT",
	TypeSub: "SUB", TypeSuback: "SUBACK", TypeEvent: "EVENT",
}

// Valid reports whether t is one of the twelve packet types.
func (t PacketType) Valid() bool { return t >= TypeConnect && t <= TypeEvent }

func (t PacketType) String() string {
	if t.Valid() {
		return typeNames[t]
	}
	return fmt.Sprintf("PacketType(%d)", uint8(t))
}

// Flags is the low nibble of a frame's first byte, for every type but
// CONNACK (whose bit 0 means HasServerVersion) and PING/PONG (always 0).
type Flags uint8

// Header flag bits.
const (
	FlagNoPersist Flags = 0x01
	FlagRedDot    Flags = 0x02
	FlagSyncOnce  Flags = 0x04
	FlagDup       Flags = 0x08

	flagsMask Flags = 0x0f
)

// connackHasServerVersion is CONNACK's only header flag.
const connackHasServerVersion = 0x01

// Setting is the setting byte of SEND, RECV and SUB.
type Setting uint8

// Setting bits.
const (
	SettingReceipt   Setting = 0x80
	SettingSignal    Setting = 0x20
	SettingNoEncrypt Setting = 0x10
	SettingTopic     Setting = 0x08
	// SettingStreamSDK is the stream bit as wukongimjssdk 1.0.4 (protocol
	// version 2) writes and reads it: 1<<2. PROTOCOL.md and the WuKongIM Go
	// library use 1<<1 (SettingStream). The two bits mean nothing else, so in
	// versions 2 to 4 either one announces the stream fields; a server that
	// writes a stream RECV to a version-2 client must set SettingStreamSDK.
	SettingStreamSDK Setting = 0x04
	SettingStream    Setting = 0x02
)

// HasStream reports whether a SEND or RECV with this setting carries the
// stream fields at protocol version v.
func (s Setting) HasStream(v uint8) bool {
	return v >= 2 && v < 5 && s&(SettingStream|SettingStreamSDK) != 0
}

// GoStreamLayout reports whether a RECV with this setting lays its stream
// fields out as WuKongIM and its Go codec (WuKongIMGoProto) do: stream_flag
// u8, stream_no, stream_id u64, announced by SettingStream. Otherwise (only
// SettingStreamSDK set) they follow wukongimjssdk 1.0.4: stream_no,
// stream_seq u32, stream_flag u8. Each client reads the layout of the bit
// it knows, so the server answers each in the bit its own SEND used.
func (s Setting) GoStreamLayout() bool { return s&SettingStream != 0 }

// HasTopic reports whether a SEND or RECV with this setting carries a topic.
func (s Setting) HasTopic() bool { return s&SettingTopic != 0 }

// ReasonCode is the outcome carried by CONNACK, SENDACK, DISCONNECT, SUBACK.
type ReasonCode uint8

// Reason codes, as in PROTOCOL.md section 4.
const (
	ReasonUnknown                 ReasonCode = 0
	ReasonSuccess                 ReasonCode = 1
	ReasonAuthFail                ReasonCode = 2
	ReasonSubscriberNotExist      ReasonCode = 3
	ReasonInBlacklist             ReasonCode = 4
	ReasonChannelNotExist         ReasonCode = 5
	ReasonUserNotOnNode           ReasonCode = 6
	ReasonSenderOffline           ReasonCode = 7
	ReasonMsgKeyError             ReasonCode = 8
	ReasonPayloadDecodeError      ReasonCode = 9
	ReasonForwardSendPacketError  ReasonCode = 10
	ReasonNotAllowSend            ReasonCode = 11
	ReasonConnectKick             ReasonCode = 12
	ReasonNotInWhitelist          ReasonCode = 13
	ReasonQueryTokenError         ReasonCode = 14
	ReasonSystemError             ReasonCode = 15
	ReasonChannelIDError          ReasonCode = 16
	ReasonNodeMatchError          ReasonCode = 17
	ReasonNodeNotMatch            ReasonCode = 18
	ReasonBan                     ReasonCode = 19
	ReasonNotSupportHeader        ReasonCode = 20
	ReasonClientKeyIsEmpty        ReasonCode = 21
	ReasonRateLimit               ReasonCode = 22
	ReasonNotSupportChannelType   ReasonCode = 23
	ReasonDisband                 ReasonCode = 24
	ReasonSendBan                 ReasonCode = 25
	ReasonChannelDeleting         ReasonCode = 26
	ReasonProtocolUpgradeRequired ReasonCode = 27
	ReasonIdempotencyConflict     ReasonCode = 28
	ReasonMessageSeqExhausted     ReasonCode = 29
)

var reasonNames = [...]string{
	"ReasonUnknown", "ReasonSuccess", "ReasonAuthFail", "ReasonSubscriberNotExist", "ReasonInBlacklist",
	"ReasonChannelNotExist", "ReasonUserNotOnNode", "ReasonSenderOffline", "ReasonMsgKeyError",
	"ReasonPayloadDecodeError", "ReasonForwardSendPacketError", "ReasonNotAllowSend", "ReasonConnectKick",
	"ReasonNotInWhitelist", "ReasonQueryTokenError", "ReasonSystemError", "ReasonChannelIDError",
	"ReasonNodeMatchError", "ReasonNodeNotMatch", "ReasonBan", "ReasonNotSupportHeader",
	"ReasonClientKeyIsEmpty", "ReasonRateLimit", "ReasonNotSupportChannelType", "ReasonDisband",
	"ReasonSendBan", "ReasonChannelDeleting", "ReasonProtocolUpgradeRequired", "ReasonIdempotencyConflict",
	"ReasonMessageSeqExhausted",
}

// ReasonName is r's name as WuKongIM's codec prints it ("ReasonAuthFail").
func ReasonName(r ReasonCode) string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return fmt.Sprintf("UNKNOWN[%d]", uint8(r))
}

// DeviceFlag says what kind of device a connection comes from.
type DeviceFlag uint8

// Device flags.
const (
	DeviceApp    DeviceFlag = 0
	DeviceWeb    DeviceFlag = 1
	DevicePC     DeviceFlag = 2
	DeviceSystem DeviceFlag = 99
)

// DeviceLevel ranks the connections of one (uid, device flag).
type DeviceLevel uint8

// Device levels.
const (
	DeviceSlave  DeviceLevel = 0
	DeviceMaster DeviceLevel = 1
)

// ChannelType is the kind of a channel.
type ChannelType uint8

// Channel types, as in PROTOCOL.md section 7.
const (
	ChannelPerson          ChannelType = 1
	ChannelGroup           ChannelType = 2
	ChannelCustomerService ChannelType = 3
	ChannelCommunity       ChannelType = 4
	ChannelCommunityTopic  ChannelType = 5
	ChannelInfo            ChannelType = 6
	ChannelData            ChannelType = 7
	ChannelTemp            ChannelType = 8
	ChannelLive            ChannelType = 9
	ChannelVisitors        ChannelType = 10
	ChannelAgent           ChannelType = 11
	ChannelAgentGroup      ChannelType = 12
)

// StreamFlag marks a stream message's place in its stream.
type StreamFlag uint8

// Stream flags.
const (
	StreamStart StreamFlag = 0
	StreamIng   StreamFlag = 1
	StreamEnd   StreamFlag = 2
)

// SubAction is SUB's and SUBACK's action byte.
type SubAction uint8

// Sub actions.
const (
	Subscribe   SubAction = 0
	Unsubscribe SubAction = 1
)

// Protocol versions this codec speaks.
const (
	MinVersion    uint8 = 2
	LatestVersion uint8 = 6
)

// NegotiateVersion returns the version a connection uses after a CONNECT
// that announced client: min(client, LatestVersion). ok is false when the
// client is older than MinVersion.
func NegotiateVersion(client uint8) (v uint8, ok bool) {
	if client < MinVersion {
		return 0, false
	}
	return min(client, LatestVersion), true
}

// DefaultMaxFrameSize bounds a frame's body (its remaining length).
const DefaultMaxFrameSize = 1 << 20

// MaxStringLen is the longest str field, in bytes.
const MaxStringLen = 32767

// maxRemainingLength is what four base-128 length bytes can hold.
const maxRemainingLength = 1<<28 - 1
