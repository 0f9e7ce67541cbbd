package node

import (
	"slices"

	"github.com/jindou-im/jindou/node/proto"
	"github.com/jindou-im/jindou/node/state"
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
	slotID := state.SlotOfUser(r.UID, a.n.cfg.Slots)
	cmd := &state.Command{Op: state.OpToken, UID: r.UID, Flag: int(r.DeviceFlag), Token: r.Token, Level: r.DeviceLevel}
	a.propose(slotID, cmd, func(err error) {
		if err == nil && proto.DeviceLevel(r.DeviceLevel) == proto.DeviceMaster {
			a.n.broadcastCluster(kickMsg{UID: r.UID, Flag: int(r.DeviceFlag), Reason: "token changed"})
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
	cmd := &state.Command{Op: state.OpTokenClear, UID: r.UID, Flag: r.DeviceFlag}
	a.propose(state.SlotOfUser(r.UID, a.n.cfg.Slots), cmd, func(err error) {
		a.n.broadcastCluster(kickMsg{UID: r.UID, Flag: r.DeviceFlag, Reason: "device quit"})
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
	a.gatherClusterGateways(queryOnline{UIDs: r.UIDs}, func(parts []readResult, err error) {
		if err != nil {
			done(nil, err)
			return
		}
		out := []OnlineConn{}
		for _, p := range parts {
			out = append(out, p.(onlineResult)...)
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
		a.read(0, querySystemUIDs{}, func(res readResult, err error) { done(uidsOf(res), err) })
		return nil
	}
	if err := checkUIDs("uids", r.UIDs); err != nil {
		return err
	}
	op := state.OpSystemAdd
	if r.Op == "remove" {
		op = state.OpSystemRemove
	}
	a.proposeReply(0, &state.Command{Op: op, UIDs: r.UIDs}, done)
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
	cmd := &state.Command{Op: state.OpChannel, Ch: r.Channel, Info: &info, Reset: r.Reset, UIDs: r.Subscribers}
	a.proposeReply(state.SlotOfChannel(r.Channel, a.n.cfg.Slots), cmd, done)
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
	cmd := &state.Command{Op: state.OpChannelInfo, Ch: r.Channel, Info: &info}
	a.proposeReply(state.SlotOfChannel(r.Channel, a.n.cfg.Slots), cmd, done)
	return nil
}

// ChannelDelete deletes a channel's info, subscribers and lists (POST
// /channel/delete). Reply: nil.
type ChannelDelete struct{ Channel ChannelKey }

func (r ChannelDelete) run(a *apiLoop, done func(any, error)) error {
	if err := checkChannel(r.Channel); err != nil {
		return err
	}
	cmd := &state.Command{Op: state.OpChannelDelete, Ch: r.Channel}
	a.proposeReply(state.SlotOfChannel(r.Channel, a.n.cfg.Slots), cmd, done)
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
	op := state.OpSubAdd
	if r.Remove {
		op = state.OpSubRemove
	}
	cmd := &state.Command{Op: op, Ch: r.Channel, Reset: r.Reset, UIDs: r.Subscribers}
	a.proposeReply(state.SlotOfChannel(r.Channel, a.n.cfg.Slots), cmd, done)
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
	if !slices.Contains([]string{state.ListAdd, state.ListSet, state.ListRemove, state.ListRemoveAll}, r.Op) {
		return &BadRequest{Field: "op", Msg: "must be add, set, remove or remove_all"}
	}
	if err := checkUIDs("uids", r.UIDs); err != nil {
		return err
	}
	cmd := &state.Command{Op: state.OpList, Ch: r.Channel, Table: table, ListOp: r.Op, UIDs: r.UIDs}
	a.proposeReply(state.SlotOfChannel(r.Channel, a.n.cfg.Slots), cmd, done)
	return nil
}

func listTable(list string) (byte, error) {
	if table, ok := state.ParseList(list); ok {
		return table, nil
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
	q := queryList{Ch: r.Channel, List: table}
	a.read(state.SlotOfChannel(r.Channel, a.n.cfg.Slots), q, func(res readResult, err error) { done(uidsOf(res), err) })
	return nil
}

// uidsOf is a uid list's reply: never nil (the API answers []).
func uidsOf(res readResult) []string {
	if res == nil {
		return nil
	}
	return []string(res.(uidsResult))
}
