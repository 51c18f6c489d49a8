// Package workload owns the operations a campaign performs against the system
// under test and their honest recording: the seeded generators (register,
// set, append), the closed-loop recording clients (one process per worker,
// a fresh process after every indeterminate outcome), the optional total
// rate limit, and the final linearizable reads of every key.
//
// It talks to the cluster only through the client of its system (sut/system:
// raftd, etcd or any server speaking the HTTP protocol) and writes only through a
// history.Recorder. It must not touch the runtime, the nemesis or the
// checker: it does not know which faults are active, and it never decides
// whether a history is valid.
package workload
