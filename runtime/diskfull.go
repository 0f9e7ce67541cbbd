package runtime

import "errors"

// ErrDiskFull is the error of a Disk.Commit that the runtime did not run
// because the disk has no room for it (below the runtime's reserve, or the
// write failed with ENOSPC): test it with errors.Is. A commit refused before
// it ran wrote nothing; one whose write ran out of space mid-way may have
// written part of its batch unsynced, which, as for any failed commit, the
// caller must treat as not durable and write again. The core answers it by
// refusing new writes and retrying the commit with a backoff until space
// returns (node/diskfault.go).
var ErrDiskFull = errors.New("runtime: disk full")
