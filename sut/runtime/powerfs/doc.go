// Package powerfs owns the power-loss filesystem: a FUSE loopback mount
// over a backing directory that keeps every write not yet fsynced in a cache
// of its own, as a kernel page cache would, so that a simulated power
// failure can drop it (all of it, or a torn suffix of each file) while a
// plain kill keeps it. It is in the spirit of Jepsen's LazyFS.
//
// What it models: file data and truncation are volatile until the file is
// fsynced (fsync and fdatasync both flush the file's data and size).
// Namespace changes (create, mkdir, rename, unlink, link) reach the backing
// directory at once, as on a journaling filesystem that commits metadata
// eagerly; a directory fsync is passed through. So it finds data that an
// application acknowledged before syncing, and the classic "rename a file
// whose data was never synced" loss; it does not find a missing directory
// fsync.
//
// It knows nothing of the system under test or of the checker: it mounts,
// fails and unmounts, and reports what it dropped. sut/runtime decides when.
package powerfs
