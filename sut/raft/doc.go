// Package raft is the deterministic Raft core of raftd, in the shape of
// etcd-io/raft: a RawNode is driven only by Tick (the passage of logical time)
// and Step (an incoming message) and hands its work back as Ready batches:
// entries and hard state to persist, messages to send, committed entries to
// apply, reads to release.
//
// It owns leader election (randomized timeouts, the vote restriction,
// check-quorum, ignoring RequestVote while a leader is known), log replication
// (consistency check, fast back-off, pipelining), the commit rule, membership
// changes by joint consensus (learner catch-up, C(old,new), C(new)),
// linearizable reads (ReadIndex and leader leases), and log compaction with
// chunked InstallSnapshot. The core-level planted bugs of sut/bugs live here as
// small branches marked "PLANTED BUG".
//
// It must not touch anything outside memory: no goroutines, no time.Now, no
// I/O, no global random source. Storage, transport, clocks, the state machine
// and the client API belong to sut/server, sut/wal and sut/kv.
//
// Choices worth knowing when driving it:
//
//   - The leader counts its own copy of an entry towards commitment only once
//     Advance reports it persisted, so a server may send appends before its
//     own fsync. A single-voter cluster therefore commits on the Ready after
//     the one that carried the entry.
//   - A server left out of an uncommitted C(new) still campaigns (Raft thesis
//     §4.2.2) without counting its own vote; once it knows its removal
//     committed it stays passive.
//   - A learner never campaigns and never counts in any majority, but it
//     answers RequestVote: the candidate may hold a newer configuration in
//     which it is a voter, and refusing would let one crash block elections.
//   - Only a leader's message or a granted vote restarts a follower's
//     election timer (a higher-term vote request it rejects does not).
//   - A restarted node (non-empty HardState) ignores vote requests for one
//     minimum election timeout, keeping the promise leases rely on.
package raft
