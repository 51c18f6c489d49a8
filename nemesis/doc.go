// Package nemesis owns the faults of a campaign: the fault kinds and their
// seeded schedule, the partition topologies (as pure functions returning a
// runtime.Grudge), clock skew within the lease safety bound, membership
// churn, crashes and pauses, the recording of every fault as a start/end
// pair of nemesis events on the history's clock, and guaranteed healing.
//
// It acts only through the runtime.Cluster interface and the raftd client
// API (black box: it learns the leader and the configuration from
// /admin/status like any client would). It must not touch the workload's
// clients, the history file beyond recording its own events, or the checker.
package nemesis
