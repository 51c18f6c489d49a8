// Package server is raftd itself: it drives the deterministic Raft core
// (sut/raft) with a skewable clock, persists its Ready batches through the
// write-ahead log (sut/wal), applies committed commands to the key-value state
// machine (sut/kv), moves messages between peers over persistent streaming
// HTTP links, and serves the client and admin HTTP API of docs/raftd-api.md.
// The server-level planted bugs (stale-local-read, ack-before-commit,
// follower-read-no-wait) live here as small branches marked
// "// PLANTED BUG <name>"; the other bugs are passed through to the core and
// the state machine.
//
// It owns the drive loop, the transport, the clock, the read paths and the
// HTTP handlers. It must not reach into the core's internals (only the RawNode
// API and the types in sut/raft/types.go), must not change the on-disk format
// (that is sut/wal's) or the command semantics (sut/kv's).
package server
