package linearize

// SyncWindow returns the seqs a /channel/messagesync answer must hold when
// the channel's last seq is tail: count seqs from first on, in a row (count
// 0: none). This is API.md's row, with its two open points fixed:
//
//   - Start = End = 0, either mode: the newest Limit messages.
//   - Up: seqs from max(Start, 1) on, below End if End ≠ 0; the oldest Limit.
//   - Down: seqs up to and including Start (up to the tail if Start = 0),
//     above End if End ≠ 0 (End is exclusive in both modes); the newest
//     Limit. Start is included as in WuKongIM, whose SDKs document
//     start_message_seq as "the result includes start_message_seq".
//   - Limit 0: no limit.
func SyncWindow(req SyncRequest, tail uint64) (first, count uint64) {
	lo, hi := uint64(1), tail // the window is [lo, hi], empty if hi < lo
	cutOldest := true         // when over Limit, keep the newest
	switch {
	case req.Start == 0 && req.End == 0:
	case req.Mode == Up:
		lo = max(req.Start, 1)
		if req.End != 0 {
			hi = min(hi, req.End-1)
		}
		cutOldest = false
	default: // Down
		if req.Start != 0 {
			hi = min(hi, req.Start)
		}
		if req.End != 0 {
			lo = req.End + 1
		}
	}
	if hi < lo {
		return lo, 0
	}
	n := hi - lo + 1
	if req.Limit != 0 && n > req.Limit {
		if cutOldest {
			lo = hi - req.Limit + 1
		}
		n = req.Limit
	}
	return lo, n
}
