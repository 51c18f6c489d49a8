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
// The torn-tail rule. A crash in the middle of an append leaves a prefix of
// the bytes written, possibly followed by sectors the disk never wrote,
// which read back as zeros. So a bad record is torn, and only then, when
//
//   - it is in the last segment (older segments were fsynced before the
//     roll that ended them);
//   - nothing valid can follow it: no offset after it holds a record with a
//     known type, a plausible size and a matching CRC;
//   - it looks cut short: the file ends inside it (and its bytes do not
//     check out as a complete record whose length field alone is damaged),
//     or its bytes in the file's final sector are all zeros.
//
// Recovery truncates a torn record, and everything after it, and logs the
// file, the offset and the bytes dropped. Any other damage, in any segment,
// the newest included, stops Open with a *CorruptError naming the file and
// the byte offset; a damaged snapshot or meta.json stops it too. Nothing is
// skipped or repaired silently.
//
// What the rule costs: damage that looks exactly like a crash mid-append
// (the final sector of the live segment zeroed after its fsync) is taken for
// a tear and loses the records in that sector; no WAL can tell the two
// apart from the file alone. Every other single flipped byte or zeroed
// sector is refused (damage_test.go sweeps them all).
//
// The package knows nothing of the network, the state machine or the Raft
// algorithm beyond the types of sut/raft; it must not be touched by the Raft
// core (which does no I/O). sut/server is its only user.
package wal
