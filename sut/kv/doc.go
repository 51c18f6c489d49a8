// Package kv owns raftd's replicated state machine: the command codec, the
// get / put / cas / append / delete operations, client sessions that make a
// retried write apply exactly once, and the snapshot codec of the whole
// state (data, sessions, applied index). It is deterministic: the same
// commands in the same order give the same state on every replica.
//
// It must not touch Raft, storage, the network or clocks: sut/server feeds it
// committed commands in log order and persists its snapshots through sut/wal.
// The one planted bug here is no-dedup (see sut/bugs), a small marked branch
// in Store.Apply.
package kv
