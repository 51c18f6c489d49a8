// Package campaign owns one fault campaign from start to verdict: it picks a
// runtime and starts a raftd cluster, waits for a leader, runs the workload
// clients and the nemesis side by side while polling every node's status,
// then — on every exit path, Ctrl-C included — heals every fault, waits for
// recovery, performs the final reads, closes the cluster (collecting node
// logs), checks the history and writes the run directory through package
// store (campaign.json, history.jsonl, nodes/status.jsonl, results.json,
// keys/) plus report.html and junit.xml through package report. It owns the
// campaign's settings (Options and their one validation, Validate), its
// phases and its progress (Snapshot), and CheckRun, the one re-check of a
// run directory.
//
// It composes the other packages and must not reach into them: how nodes run
// belongs to sut/runtime, operations to workload, faults to nemesis, the
// verdict to check, the files to store and the report to report. It never
// looks inside raftd.
package campaign
