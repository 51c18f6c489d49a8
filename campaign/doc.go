// Package campaign owns one fault campaign from start to verdict: it picks a
// runtime and starts a raftd cluster, waits for a leader, runs the workload
// clients and the nemesis side by side while polling every node's status,
// then — on every exit path, Ctrl-C included — heals every fault, waits for
// recovery, performs the final reads, closes the cluster (collecting node
// logs), checks the history and writes the run directory of the store
// (campaign.json, history.jsonl, nodes/status.jsonl, results.json, keys/,
// report.html, junit.xml) and store/latest.
//
// It composes the other packages and must not reach into them: how nodes run
// belongs to sut/runtime, operations to workload, faults to nemesis, the
// verdict to check and the report to reports. It never looks inside raftd.
package campaign
