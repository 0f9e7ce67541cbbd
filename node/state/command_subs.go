package state

// OpSubRemoveAll removes every subscriber of a channel and leaves the
// rest of it (POST /channel/subscriber_remove_all). Appended after the
// original op codes: op codes are strings in the log, so order does not
// matter to decoding, only uniqueness.
const OpSubRemoveAll = "sub_remove_all"
