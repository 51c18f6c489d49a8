// Package client is the Go client of the raftd HTTP API (docs/raftd-api.md), used
// by workloads, the nemesis, tests and benchmarks. It owns leader discovery
// (following 307 redirects through its own node-id -> address map, since a
// Location may name an address only the cluster can reach), retrying definite
// failures on other nodes, client sessions (X-Client-Id and X-Seq, one seq
// per logical operation shared by all its attempts, and X-Seq-Ack, the lowest
// seq still awaiting its answer, so the server may forget the results of
// answered ones), and the classification
// of every failure as definite (certainly not applied) or indefinite (may
// take effect at any time): the history depends on that distinction.
//
// It dials only loopback addresses and never looks inside the cluster: it
// must not import the server, the Raft core or the state machine.
package client
