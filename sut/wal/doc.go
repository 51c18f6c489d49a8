// Package wal owns raftd's durable storage in one data directory: the
// write-ahead log of Raft entries and hard state, the snapshot files, and the
// identity file that ties the directory to one node of one cluster.
//
// Layout of a data directory:
//
//	meta.json                     {"node_id": ..., "cluster": ...}, written on first Open
//	wal-<seq>.log                 log segments, replayed in seq order
//	snap-<index>.snap             the latest snapshot (older ones are deleted)
//
// A segment is a sequence of records, each framed as
//
//	length uint32 LE | crc uint32 LE | type uint8 | payload (length bytes)
//
// where crc is CRC-32C (Castagnoli) over the length bytes, the type and the
// payload. An entry record with index i replaces every entry >= i on replay,
// which is how overwritten log suffixes are recorded: the log is only ever
// appended to, never rewritten in place. Taking a snapshot rolls to a new
// segment holding the hard state and the entries after the snapshot, then
// deletes the older segments; Open finishes a roll that a crash interrupted.
//
// Recovery truncates a torn last record at the tail of the last segment and
// logs it; any other damage stops Open with an error naming the file and the
// byte offset. Nothing is skipped silently.
//
// The package knows nothing of the network, the state machine or the Raft
// algorithm beyond the types of sut/raft; it must not be touched by the Raft
// core (which does no I/O). sut/server is its only user.
package wal
